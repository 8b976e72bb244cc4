import pytest
import torch
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import MDGETMER, MDGETMERConfig, resolve_model
from dialoggraph.train.trainer import parameter_groups, training_loss
from conftest import assert_dialogues_isolated, loss_after_training
from dialoggraph.transforms import SpeakerWindowGraph


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(10, "train", seed=2, max_len=8, pre_transform=SpeakerWindowGraph(5, 5))
    return next(iter(DataLoader(data, batch_size=10))), data.meta["feature_dims"]


def small(**kwargs):
    return MDGETMERConfig(hidden=16, heads=2, gue_layers=1, acme_layers=1, classifier_hidden=16, **kwargs)


def test_registered_presets_and_outputs(batch):
    b, dims = batch
    assert resolve_model("mdget_mer") is MDGETMER
    iemocap = MDGETMER.preset("iemocap")
    assert (MDGETMER.presets["iemocap"].train["lr"], iemocap.gue_dropout, iemocap.acme_dropout,
            iemocap.acme_layers) == (2.5e-5, 0.2, 0.4, 5)
    model = MDGETMER(dims, 7, small()).train()
    out = model(b)
    assert out.logits.shape == (b["utterance"].num_nodes, 7)
    assert set(out.aux_losses) == {"transfer", "gate_l2"}
    weights = out.attention["fusion_gates"]
    assert weights.shape == (b["utterance"].num_nodes, 3) and bool(((weights >= 0) & (weights <= 1)).all())
    assert model.eval()(b).aux_losses == {}


@pytest.mark.parametrize("modalities", [("text",), ("visual",), ("text", "audio"), ("audio", "visual")])
def test_every_modality_subset(batch, modalities):
    b, dims = batch
    assert torch.isfinite(MDGETMER(dims, 7, small(modalities=modalities))(b).logits).all()


@pytest.mark.parametrize("ablation", [dict(use_gue=False), dict(use_acme=False), dict(use_eetm=False),
                                      dict(transfer_weight=0.0), dict(gates=()), dict(gates=("gue", "fusion")),
                                      dict(transfer_pairs="all")])
def test_table_6_ablations(batch, ablation):
    b, dims = batch
    model = MDGETMER(dims, 7, small(**ablation)).train()
    out = model(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    assert ("transfer" in out.aux_losses) == (ablation.get("use_eetm", True) and ablation.get("transfer_weight", 1) > 0)


def test_no_leakage_between_dialogues(batch):
    b, dims = batch
    assert_dialogues_isolated(MDGETMER(dims, 7, small()).eval(), b, ("text", "audio", "visual"))


def test_training_steps_reduce_the_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = MDGETMER(dims, 7, small(gue_dropout=0.0, acme_dropout=0.0, classifier_dropout=0.0))
    first, last = loss_after_training(model, b, steps=15, lr=0.003)
    assert last < 0.6 * first


def test_gate_weights_are_regularised_once(batch):
    """Eq. 40's L2 covers the gates, AdamW's weight decay every other weight: never both."""
    b, dims = batch
    model = MDGETMER(dims, 7, MDGETMERConfig(hidden=16, heads=2, gue_layers=1, acme_layers=1, classifier_hidden=16))
    decayed, free = parameter_groups(model, 1e-5)
    gates = {id(p) for p in model.gate_parameters()}
    assert decayed["weight_decay"] == 1e-5 and free["weight_decay"] == 0.0
    assert {id(p) for p in free["params"]} == gates
    assert not gates & {id(p) for p in decayed["params"]}
    assert len(decayed["params"]) + len(free["params"]) == len(list(model.parameters()))
    model.train()
    assert "gate_l2" in model(b).aux_losses
    # a model that regularises nothing itself keeps one group (its older checkpoints resume)
    plain = parameter_groups(torch.nn.Linear(2, 2), 1e-5)
    assert len(plain) == 1 and len(plain[0]["params"]) == 2
