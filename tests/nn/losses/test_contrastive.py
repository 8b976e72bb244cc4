import math

import pytest
import torch

from dialoggraph.nn.losses import CrossModalContrastiveLoss, SupervisedContrastiveLoss


def sim(a, b, tau):
    return float(torch.dot(a / a.norm(), b / b.norm())) / tau


def reference_self(features, tau):
    """Eq. 10 term by term."""
    names, n = list(features), next(iter(features.values())).size(0)
    total = 0.0
    for a in names:
        for b in names:
            if a == b:
                continue
            for i in range(n):
                num = math.exp(sim(features[a][i], features[b][i], tau))
                den = sum(math.exp(sim(features[a][i], features[b][j], tau)) for j in range(n) if j != i)
                total -= math.log(num / den)
    return total / n


def reference_full(features, y, tau):
    """Eq. 11 term by term (P(i) without i; unlabelled and unpaired anchors skipped)."""
    idx = [i for i in range(len(y)) if y[i] >= 0]
    total, anchors = 0.0, 0
    for i in idx:
        pos = [p for p in idx if p != i and y[p] == y[i]]
        neg = [k for k in idx if y[k] != y[i]]
        if not pos or not neg:
            continue
        anchors += 1
        for x in features.values():
            den = sum(math.exp(sim(x[i], x[k], tau)) for k in neg)
            total -= sum(math.log(math.exp(sim(x[i], x[p], tau)) / den) for p in pos) / len(pos)
    return total / anchors


def test_cross_modal_contrastive_matches_eq_10():
    torch.manual_seed(0)
    features = {m: torch.randn(6, 5) for m in ("text", "audio", "visual")}
    loss = CrossModalContrastiveLoss(tau=0.5)(features)
    assert loss.item() == pytest.approx(reference_self(features, 0.5), rel=1e-5)
    aligned = {m: features["text"].clone() for m in ("text", "audio")}
    shuffled = {"text": features["text"], "audio": features["text"][torch.tensor([1, 2, 3, 4, 5, 0])]}
    assert CrossModalContrastiveLoss(0.5)(aligned) < CrossModalContrastiveLoss(0.5)(shuffled)
    assert CrossModalContrastiveLoss()({"text": features["text"]}).item() == 0.0


def test_supervised_contrastive_matches_eq_11():
    torch.manual_seed(1)
    features = {m: torch.randn(9, 4) for m in ("text", "audio")}
    # class 0 has three members (two positives per anchor), class 3 one (an anchor without positive)
    y = torch.tensor([0, 1, 0, 2, 1, -1, 2, 0, 3])
    loss = SupervisedContrastiveLoss(tau=0.3)(features, y)
    assert loss.item() == pytest.approx(reference_full(features, y.tolist(), 0.3), rel=1e-5)
    assert SupervisedContrastiveLoss()(features, torch.tensor([0, 1, 2, 3, 4, 5, 6])).item() == 0.0
