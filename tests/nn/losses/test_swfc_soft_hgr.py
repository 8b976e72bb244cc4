import math

import numpy as np
import pytest
import torch

from dialoggraph.nn.losses import SampleWeightedFocalContrastiveLoss, SoftHGRLoss


def reference_swfc(z, y, tau, alpha, gamma):
    """Eqs. 11-12 term by term (labelled anchors, averaged over them)."""
    idx = [i for i in range(len(y)) if y[i] >= 0]
    n = len(idx)
    counts = {c: sum(1 for i in idx if y[i] == c) for c in set(y[i] for i in idx)}
    total = 0.0
    for j in idx:
        positives = [g for g in idx if g != j and y[g] == y[j]]
        if not positives:
            continue
        den = sum(math.exp(float(z[j] @ z[s]) / tau) for s in idx if s != j)
        inner = 0.0
        for g in positives:
            s_jg = math.exp(float(z[j] @ z[g]) / tau) / den
            inner += (1 - s_jg) ** gamma * math.log(s_jg)
        total -= (n / counts[y[j]]) ** alpha * inner / len(positives)
    return total / n


def test_swfc_matches_eqs_11_12():
    torch.manual_seed(0)
    z = torch.randn(8, 4)
    y = torch.tensor([0, 1, 0, 2, 1, 0, -1, 3])
    loss = SampleWeightedFocalContrastiveLoss(tau=0.9, alpha=0.8, gamma=3.0)(z, y)
    assert loss.item() == pytest.approx(reference_swfc(z, y.tolist(), 0.9, 0.8, 3.0), rel=1e-5)
    assert loss.item() > 0
    # well-separated classes give a smaller loss than mixed ones
    separated = torch.tensor([[5.0, 0], [0, 5.0], [5.0, 0.1], [0.1, 5.0]])
    labels = torch.tensor([0, 1, 0, 1])
    swfc = SampleWeightedFocalContrastiveLoss()
    assert swfc(separated, labels) < swfc(separated, torch.tensor([0, 0, 1, 1]))


def test_soft_hgr_matches_the_formula():
    torch.manual_seed(1)
    f = {m: torch.randn(10, 3) for m in ("text", "audio", "visual")}
    loss = SoftHGRLoss()(f)
    expected = 0.0
    names = list(f)
    for i in range(3):
        for j in range(i + 1, 3):
            q = f[names[i]].numpy() - f[names[i]].numpy().mean(0)
            v = f[names[j]].numpy() - f[names[j]].numpy().mean(0)
            expected += (q * v).sum(1).mean() - 0.5 * np.trace(np.cov(q.T) @ np.cov(v.T))
    assert loss.item() == pytest.approx(-expected, rel=1e-5)
    same = SoftHGRLoss()({"a": f["text"], "b": f["text"]})
    other = SoftHGRLoss()({"a": f["text"], "b": -f["text"]})
    assert same < other                          # correlated features are rewarded


def test_swfc_gradients_are_finite():
    """The self-similarity is -inf inside the loss; it must not turn gradients into NaN (it once did)."""
    torch.manual_seed(3)
    z = torch.randn(12, 6, requires_grad=True)
    y = torch.tensor([0, 1, 0, 2, 1, 0, -1, 3, 2, 2, 1, 0])
    SampleWeightedFocalContrastiveLoss(gamma=2.5)(z, y).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_swfc_normalised_features_are_scale_free():
    torch.manual_seed(4)
    z, y = torch.randn(10, 5), torch.tensor([0, 1, 0, 2, 1, 0, 2, 2, 1, 0])
    swfc = SampleWeightedFocalContrastiveLoss(normalize=True)
    assert torch.allclose(swfc(z, y), swfc(7.0 * z, y))
    unit = torch.nn.functional.normalize(z, dim=-1)
    assert torch.allclose(swfc(z, y), SampleWeightedFocalContrastiveLoss()(unit, y))
    assert not torch.allclose(SampleWeightedFocalContrastiveLoss()(z, y), SampleWeightedFocalContrastiveLoss()(7.0 * z, y))


def test_swfc_normalised_class_weights_sum_to_one():
    torch.manual_seed(5)
    z, y = torch.randn(9, 4), torch.tensor([0, 0, 0, 0, 0, 1, 1, 2, 2])
    raw = reference_swfc(z, y.tolist(), 0.9, 0.8, 3.0)
    # the weights (9/5)^a, (9/2)^a, (9/2)^a scaled by their sum: every anchor's term shrinks by the same factor
    total = sum((9 / c) ** 0.8 for c in (5, 2, 2))
    swfc = SampleWeightedFocalContrastiveLoss(normalize_weights=True)
    assert swfc(z, y).item() == pytest.approx(raw / total, rel=1e-5)
