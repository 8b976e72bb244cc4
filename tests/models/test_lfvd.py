import pytest
import torch
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import LFVD, LFVDConfig, resolve_model
from dialoggraph.train.trainer import training_loss
from dialoggraph.transforms import DAGGraph
from conftest import assert_dialogues_isolated, loss_after_training

ALL = ("text", "audio", "visual")


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(10, "train", seed=4, max_len=8, pre_transform=DAGGraph(1))
    return next(iter(DataLoader(data, batch_size=10))), data.meta["feature_dims"]


def small(**kwargs):
    return LFVDConfig(hidden=16, heads=2, **kwargs)


def test_registered_presets_and_loss_terms(batch):
    b, dims = batch
    assert resolve_model("lfvd") is LFVD
    meld, iemocap = LFVD.preset("meld"), LFVD.preset("iemocap")
    assert (meld.gamma1, meld.gamma2, meld.gamma3, LFVD.presets["meld"].train["lr"]) == (1.35e-3, 5e-3, 3e-3, 2.5e-4)
    assert (iemocap.gamma1, iemocap.gamma2, iemocap.gamma3, LFVD.presets["iemocap"].train["lr"]) == \
        (3.5e-2, 5e-3, 3e-3, 6.2e-5)
    assert isinstance(LFVD.required_transform(meld), DAGGraph)
    torch.manual_seed(0)
    model = LFVD(dims, 7, small(gamma1=1.0, gamma2=1.0, gamma3=1.0)).train()
    out = model(b)
    assert out.logits.shape == (b["utterance"].num_nodes, 7)
    assert set(out.aux_losses) == {"self_contrast", "full_contrast", "distillation"}
    assert out.attention["atmosphere"].shape == (10, 16)
    assert set(out.attention) >= {"weight_audio", "weight_visual"}
    # eq. 16: sigmoid of a mean of two KLs (>= 0), so every weight lies in [1/2, 1]
    assert all(bool(((w >= 0.5) & (w <= 1)).all()) for k, w in out.attention.items() if k.startswith("weight"))
    assert model.eval()(b).aux_losses == {}


def test_bad_configurations_and_missing_edges(batch):
    b, dims = batch
    with pytest.raises(ValueError, match="dominant"):
        LFVD(dims, 7, small(modalities=("audio", "visual")))
    with pytest.raises(ValueError, match="fusion"):
        LFVD(dims, 7, small(fusion="mean"))
    plain = next(iter(DataLoader(SyntheticDialogues(2, "train", seed=4, max_len=4), batch_size=2)))
    with pytest.raises(ValueError, match="dag"):
        LFVD(dims, 7, small())(plain)


@pytest.mark.parametrize("modalities,dominant", [(("text",), "text"), (("text", "audio"), "text"),
                                                 (ALL, "audio"), (("audio", "visual"), "visual")])
def test_subsets_and_dominant_modality(batch, modalities, dominant):
    b, dims = batch
    model = LFVD(dims, 7, small(modalities=modalities, dominant=dominant)).train()
    out = model(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    assert set(k for k in out.attention if k.startswith("weight")) == {f"weight_{m}" for m in modalities
                                                                       if m != dominant}


@pytest.mark.parametrize("ablation", [dict(use_lfa=False), dict(use_atmosphere=False), dict(gamma1=0.0, gamma2=0.0),
                                      dict(fusion="add"), dict(fusion="concat"), dict(fusion_weights=False),
                                      dict(gamma3=0.0), dict(gamma1=0.0, gamma2=0.0, gamma3=0.0)])
def test_table_5_and_6_ablations(batch, ablation):
    b, dims = batch
    out = LFVD(dims, 7, small(**ablation)).train()(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    expected = {"self_contrast", "full_contrast", "distillation"}
    if ablation.get("gamma1", 1) == 0:
        expected -= {"self_contrast"}
    if ablation.get("gamma2", 1) == 0:
        expected -= {"full_contrast"}
    if ablation.get("gamma3", 1) == 0 or ablation.get("fusion", "vd") != "vd":
        expected -= {"distillation"}
    assert set(out.aux_losses) == expected
    assert ("atmosphere" in out.attention) == (ablation.get("use_lfa", True) and ablation.get("use_atmosphere", True))


def test_unweighted_fusion_reaches_the_fusion_block(batch):
    b, dims = batch
    torch.manual_seed(1)
    weighted = LFVD(dims, 7, small()).eval()
    unweighted = LFVD(dims, 7, small(fusion_weights=False)).eval()
    unweighted.load_state_dict(weighted.state_dict())
    assert weighted.vd.weighted and not unweighted.vd.weighted      # the sum itself: test_variational_distillation
    assert not torch.allclose(weighted(b).logits, unweighted(b).logits)


def test_no_leakage_between_dialogues(batch):
    b, dims = batch
    assert_dialogues_isolated(LFVD(dims, 7, small()).eval(), b, ALL)


def test_training_steps_reduce_the_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = LFVD(dims, 7, small(dropout=0.0))
    first, last = loss_after_training(model, b, steps=20, lr=0.003)
    assert last < 0.5 * first
