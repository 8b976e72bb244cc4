import pytest
import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import MFCRE, MFCREConfig, resolve_model
from dialoggraph.train.engine import training_loss
from conftest import assert_dialogues_isolated, loss_after_training

ALL = ("text", "audio", "visual")


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(10, "train", seed=3, max_len=8)
    return next(iter(DataLoader(data, batch_size=10))), data.meta["feature_dims"]


def small(**kwargs):
    return MFCREConfig(**{"crn_hidden": 8, "channels": 16, "heads": 2, "classifier_hidden": 16, "input_dropout": 0.0,
                          **kwargs})


def test_registered_presets_and_eq_15(batch):
    b, dims = batch
    assert resolve_model("mfcre") is MFCRE
    assert MFCRE.preset("iemocap").multiattn_layers == 6 and MFCREConfig().multiattn_layers == 2
    paper = MFCREConfig()
    assert (paper.mu1, paper.mu2, paper.swfc_temperature, paper.swfc_alpha, paper.swfc_gamma) == (0.4, 0.3, 0.9, 0.8, 3.0)
    torch.manual_seed(0)
    model = MFCRE(dims, 7, small(dropout=0.0)).train()
    out = model(b)
    assert out.logits.shape == (b["utterance"].num_nodes, 7) and set(out.aux_losses) == {"swfc", "soft_hgr"}
    y = b["utterance"].y
    ce = F.cross_entropy(out.logits[y >= 0], y[y >= 0])
    total = training_loss(out, y)
    # eq. 15: (1/N)(mu1 sum-SWFC + mu2 Soft-HGR + (1 - mu1 - mu2) sum-CE)
    assert torch.allclose(total, 0.3 * ce + out.aux_losses["swfc"] + out.aux_losses["soft_hgr"])
    node_batch = b["utterance"].batch
    f = model.multi_attn(model.encoder({m: model.crn[m](b["utterance"][f"x_{m}"], node_batch) for m in ALL},
                                       node_batch), node_batch)
    z = model.fc(torch.cat([f[m] for m in ALL], dim=-1))
    assert torch.allclose(out.aux_losses["swfc"], 0.4 * model.swfc(z, y), atol=1e-5)
    assert torch.allclose(out.aux_losses["soft_hgr"], 0.3 * model.soft_hgr(f) / z.size(0), atol=1e-6)
    assert model.eval()(b).aux_losses == {}
    with pytest.raises(ValueError, match="mu1"):
        MFCRE(dims, 7, small(mu1=0.6, mu2=0.4))


@pytest.mark.parametrize("modalities", [("text",), ("audio",), ("text", "visual"), ("audio", "visual")])
def test_every_modality_subset(batch, modalities):
    b, dims = batch
    out = MFCRE(dims, 7, small(modalities=modalities)).train()(b)
    assert torch.isfinite(out.logits).all() and ("soft_hgr" in out.aux_losses) == (len(modalities) > 1)
    assert out.ce_weight == pytest.approx(0.3 if len(modalities) > 1 else 0.6)


@pytest.mark.parametrize("ablation,missing", [
    (dict(use_dialogue_crn=False), "crn"), (dict(simam_attention=False), None),
    (dict(use_modality_encoder=False), None), (dict(fusion="concat"), "multi_attn"),
    (dict(mu1=0.0), "swfc"), (dict(mu2=0.0), "soft_hgr")])
def test_table_4_ablations(batch, ablation, missing):
    b, dims = batch
    model = MFCRE(dims, 7, small(**ablation)).train()
    out = model(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    if missing in ("crn", "multi_attn"):
        assert getattr(model, missing) is None
    elif missing:
        assert missing not in out.aux_losses
    if "simam_attention" in ablation:
        assert not any(crn.attention for crn in model.crn.values())
    if "use_modality_encoder" in ablation:
        assert isinstance(model.encoder, torch.nn.ModuleDict)
    assert out.ce_weight == pytest.approx(1 - model.config.mu1 - model.config.mu2)   # three modalities


def test_no_leakage_between_dialogues(batch):
    b, dims = batch
    assert_dialogues_isolated(MFCRE(dims, 7, small()).eval(), b, ALL)


def test_training_steps_reduce_the_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = MFCRE(dims, 7, small(dropout=0.0, mu1=0.0, mu2=0.0))
    first, last = loss_after_training(model, b, steps=20, lr=0.003)
    assert last < 0.5 * first
