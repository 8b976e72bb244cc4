import pytest
import torch
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import CMGFE, CMGFEConfig, resolve_model
from dialoggraph.train.trainer import training_loss
from conftest import assert_dialogues_isolated, loss_after_training


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(10, "train", seed=3, max_len=8)
    return next(iter(DataLoader(data, batch_size=10))), data.meta["feature_dims"]


def small(**kwargs):
    return CMGFEConfig(hidden=16, heads=2, **kwargs)


def test_registered_teacher_and_students(batch):
    b, dims = batch
    assert resolve_model("cmgfe") is CMGFE
    model = CMGFE(dims, 7, small()).train()
    assert model.teacher == "all" and len(model.pairs) == 3
    out = model(b)
    assert out.logits.shape == (b["utterance"].num_nodes, 7)
    assert set(out.aux_losses) == {"student_ce", "distill_kl", "distill_feature"}
    assert all(bool(((g >= 0) & (g <= 1)).all()) for g in out.attention.values())
    assert model.eval()(b).aux_losses == {}


@pytest.mark.parametrize("modalities,teacher", [(("text",), "text"), (("text", "audio"), "text+audio"),
                                                (("audio", "visual"), "audio+visual")])
def test_subsets(batch, modalities, teacher):
    b, dims = batch
    model = CMGFE(dims, 7, small(modalities=modalities)).train()
    assert model.teacher == teacher
    out = model(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    assert (out.aux_losses == {}) == (len(modalities) == 1)


def test_no_leakage_and_training_reduces_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = CMGFE(dims, 7, small(dropout=0.0)).eval()
    assert_dialogues_isolated(model, b, ("text",))
    first, last = loss_after_training(model.train(), b, steps=25, lr=3e-3)
    assert last < 0.6 * first
