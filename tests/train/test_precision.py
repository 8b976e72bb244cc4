"""Mixed precision and the fused optimizer: bf16 training reaches the float32 result."""
import pytest
import torch

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDNConfig
from dialoggraph.nn.conv.sparse import TargetCSR, edge_weighted_sum
from dialoggraph.train.engine import TrainConfig, Trainer
from dialoggraph.transforms import SpeakerWindowGraph


def fit(precision: str) -> dict:
    pre = SpeakerWindowGraph(3, 3)
    train, dev = (SyntheticDialogues(n, s, seed=1, max_len=10, pre_transform=pre) for n, s in ((120, "train"),
                                                                                              (30, "dev")))
    config = AMBDSGDNConfig(hidden=32, graph_heads=2, heads=2, window=3, modality_dropout=False)
    trainer = Trainer("amb_dsgdn", train, dev, TrainConfig(epochs=6, batch_size=16, lr=3e-3, quiet=True,
                                                           precision=precision, curves=False), model_config=config)
    result = trainer.fit()
    assert trainer.optimizer.defaults["fused"]                       # one fused AdamW kernel per step
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    return result["val"]


def test_bf16_training_reaches_the_float32_result():
    """Stated tolerance: dev weighted F1 within 3 points and accuracy within 3 points after 6 epochs
    (AMB-DSGDN, whose DiffRGAT aggregation runs as a float32 island under autocast)."""
    full, half = fit("32"), fit("bf16")
    assert full["weighted_f1"] > 0.3                                  # it learned (chance is about 0.13)
    assert half["weighted_f1"] == pytest.approx(full["weighted_f1"], abs=0.03)
    assert half["accuracy"] == pytest.approx(full["accuracy"], abs=0.03)


def small_graph():
    """Four edges on three nodes, features and edge weights that need gradients."""
    edge_index = torch.tensor([[0, 1, 2, 0], [0, 0, 1, 2]])
    return edge_index, TargetCSR.build(edge_index, 3), torch.randn(3, 4, requires_grad=True), \
        torch.rand(4, requires_grad=True)


def test_the_sparse_aggregation_is_a_float32_island_under_autocast():
    edge_index, csr, x, alpha = small_graph()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = edge_weighted_sum(alpha, x.to(torch.bfloat16), csr)
    assert out.dtype == torch.float32
    expected = torch.zeros(3, 4).index_add_(0, edge_index[1], alpha.detach().unsqueeze(1) * x.detach().to(
        torch.bfloat16).float()[edge_index[0]])
    torch.testing.assert_close(out.detach(), expected)
    out.sum().backward()
    assert x.grad is not None and alpha.grad is not None


def test_the_island_holds_when_backward_runs_inside_autocast():
    _, csr, x, alpha = small_graph()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        (edge_weighted_sum(alpha, x.to(torch.bfloat16), csr) @ torch.randn(4, 2)).sum().backward()
    assert x.grad.dtype == torch.float32 and alpha.grad.dtype == torch.float32
