import pytest
import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

from conftest import assert_dialogues_isolated, loss_after_training
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig, resolve_model
from dialoggraph.train.trainer import training_loss
from dialoggraph.transforms import SpeakerWindowGraph


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(12, "train", seed=1, max_len=10, pre_transform=SpeakerWindowGraph(5, 5))
    return next(iter(DataLoader(data, batch_size=12))), data.meta["feature_dims"]


def small(**kwargs):
    return AMBDSGDNConfig(hidden=32, graph_heads=2, heads=4, **kwargs)


def test_registered_and_output_shapes(batch):
    b, dims = batch
    assert resolve_model("amb_dsgdn") is AMBDSGDN
    model = AMBDSGDN(dims, 7, small()).eval()
    out = model(b)
    n = b["utterance"].num_nodes
    assert out.logits.shape == (n, 7)
    assert set(out.modality_logits) == {"text", "audio", "visual"}
    assert torch.allclose(out.logits, sum(out.modality_logits.values()), atol=1e-6)   # eq. 29
    assert out.aux_losses == {}                                                       # eval: no aux losses


@pytest.mark.parametrize("modalities", [("text",), ("audio",), ("visual",), ("text", "audio"), ("audio", "visual")])
def test_every_modality_subset(batch, modalities):
    b, dims = batch
    model = AMBDSGDN(dims, 7, small(modalities=modalities))
    out = model(b)
    assert torch.isfinite(out.logits).all() and set(out.modality_logits) == set(modalities)


@pytest.mark.parametrize("graph_layer", ["diffrgat", "gcn", "gat", "none"])
def test_ablations_run_and_none_needs_no_edges(batch, graph_layer):
    b, dims = batch
    model = AMBDSGDN(dims, 7, small(graph_layer=graph_layer, modality_dropout=False, feature_gates=False))
    assert model.modality_dropout is None and len(model.gate) == 0
    assert torch.isfinite(model(b).logits).all()
    assert (AMBDSGDN.required_transform(model.config) is None) == (graph_layer == "none")


@pytest.mark.parametrize("detach", [False, True])
def test_aux_losses_follow_eq_33_value_and_gradient(batch, detach):
    b, dims = batch
    torch.manual_seed(0)
    model = AMBDSGDN(dims, 7, small(modality_dropout=False, dropout=0.0, graph_dropout=0.0,
                                    aux_detach=detach)).train()
    out = model(b)
    y = b["utterance"].y
    for m, logits in out.modality_logits.items():
        loss_m = F.cross_entropy(logits, y)
        aux = out.aux_losses[f"{m}_loss"]
        assert aux.item() == pytest.approx(loss_m.item() ** 2 / 10, rel=1e-5)
        # d(L^2/10) = 2L/10 dL (the authors' undetached loss); detached alpha: L/10 dL
        grad = torch.autograd.grad(aux, logits, retain_graph=True)[0]
        grad_loss = torch.autograd.grad(loss_m, logits, retain_graph=True)[0]
        factor = (1 if detach else 2) * loss_m.item() / 10
        assert torch.allclose(grad, factor * grad_loss, atol=1e-7)


def test_no_leakage_between_dialogues(batch):
    b, dims = batch
    assert_dialogues_isolated(AMBDSGDN(dims, 7, small()).eval(), b, ("text", "audio", "visual"))


def test_modality_dropout_waits_for_warmup(batch):
    b, dims = batch
    model = AMBDSGDN(dims, 7, small(warmup_epochs=2, p_exe=1.0, q_base=0.6, dropout=0.0, graph_dropout=0.0))
    model.train()
    calls = []
    model.modality_dropout.register_forward_hook(lambda module, args, result: calls.append(result[1]))
    model.set_epoch(1)
    model(b)
    model.set_epoch(2)
    torch.manual_seed(3)
    out = model(b)
    assert calls[0] is None and calls[1] is not None
    assert torch.isfinite(training_loss(out, b["utterance"].y))


def test_presets_are_the_authors_run_scripts():
    meld, iemocap = AMBDSGDN.preset("meld"), AMBDSGDN.preset("iemocap")
    assert (meld.window, meld.dropout, meld.q_base, meld.p_exe, meld.warmup_epochs) == (6, 0.11, 0.2, 0.2, 0)
    assert AMBDSGDN.presets["meld"].train == {"lr": 5e-5, "weight_decay": 7.5e-5, "batch_size": 64, "epochs": 20}
    assert (iemocap.window, iemocap.dropout, iemocap.q_base, iemocap.p_exe, iemocap.warmup_epochs) == \
        (20, 0.5, 0.3, 0.5, 60)
    assert AMBDSGDN.presets["iemocap"].train == {"lr": 6.8e-5, "weight_decay": 5e-5, "batch_size": 16, "epochs": 61}
    assert AMBDSGDN.preset("meld", hidden=64).hidden == 64


def test_missing_subgraphs_and_bad_config(batch):
    b, dims = batch
    plain = next(iter(DataLoader(SyntheticDialogues(2, "dev", max_len=4), batch_size=2)))
    with pytest.raises(ValueError, match="pre_transform=SpeakerWindowGraph"):
        AMBDSGDN(dims, 7, small())(plain)
    with pytest.raises(ValueError, match="non-empty subset"):
        AMBDSGDN(dims, 7, small(modalities=("smell",)))
    with pytest.raises(ValueError, match="graph_layer"):
        small(graph_layer="mystery")
    with pytest.raises(ValueError, match="modality_rule"):
        small(modality_rule="paper")


def test_training_steps_reduce_the_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = AMBDSGDN(dims, 7, small(modality_dropout=False, dropout=0.0))
    first, last = loss_after_training(model, b, steps=25, lr=2e-3)
    assert last < 0.5 * first
