"""LFVD's dual contrastive learning (Zhu & Jiang 2025, eqs. 10-11)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _similarity(a: Tensor, b: Tensor, tau: float) -> Tensor:
    """``sim(a_i, b_j) / tau``: dot products of L2-normalised rows, ``[N, N]``."""
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).t() / tau


class CrossModalContrastiveLoss(torch.nn.Module):
    r"""Self-supervised inter-modal contrast :math:`\mathcal{L}_{self}` (LFVD eq. 10).

    .. math::
        \mathcal{L}_{self} = -\frac{1}{N} \sum_{\xi \ne \xi'} \sum_{i=1}^{N}
        \log \frac{\exp(\mathrm{sim}(x_i^\xi, x_i^{\xi'})/\tau)}
                  {\sum_{j \ne i} \exp(\mathrm{sim}(x_i^\xi, x_j^{\xi'})/\tau)}

    over every ordered pair of modalities; as eq. 10 writes it, the
    denominator leaves the positive out. The utterances of a batch contrast
    with each other (an ``[N, N]`` similarity per pair of modalities: this is
    a batch-level loss, not attention within a dialogue). Needs ``N >= 2``.

    Args:
        tau: temperature :math:`\tau`.

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`, :math:`N \ge 2`
        - **output:** a scalar

    Example:
        >>> import torch
        >>> CrossModalContrastiveLoss()({"text": torch.randn(6, 8), "audio": torch.randn(6, 8)}).dim()
        0
    """

    def __init__(self, tau: float = 0.1):
        super().__init__()
        self.tau = tau

    def forward(self, features: dict[str, Tensor]) -> Tensor:
        names = list(features)
        n = next(iter(features.values())).size(0)
        if len(names) < 2 or n < 2:
            return next(iter(features.values())).sum() * 0.0
        off_diagonal = ~torch.eye(n, dtype=torch.bool, device=features[names[0]].device)
        total = 0.0
        for a in names:
            for b in names:
                if a == b:
                    continue
                s = _similarity(features[a], features[b], self.tau)
                negatives = torch.logsumexp(s.masked_fill(~off_diagonal, float("-inf")), dim=1)
                total = total + (negatives - s.diagonal()).sum()
        return total / n


class SupervisedContrastiveLoss(torch.nn.Module):
    r"""Fully supervised contrast :math:`\mathcal{L}_{full}` (LFVD eq. 11).

    .. math::
        \mathcal{L}_{full} = -\frac{1}{N} \sum_{\xi} \sum_{i} \frac{1}{|P(i)|} \sum_{p \in P(i)}
        \log \frac{\exp(\mathrm{sim}(x_i^\xi, x_p^\xi)/\tau)}{\sum_{k \notin P(i)} \exp(\mathrm{sim}(x_i^\xi, x_k^\xi)/\tau)}

    :math:`P(i)`: the other labelled utterances of the batch with :math:`i`'s
    label (``i`` itself left out, as in supervised contrastive learning); the
    denominator runs over the utterances with another label. Unlabelled
    utterances (``y < 0``) and anchors without a positive or a negative are
    skipped; ``N`` counts the anchors used.

    Args:
        tau: temperature :math:`\tau`.

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`; ``y`` :math:`(N)` (-1: unlabelled)
        - **output:** a scalar

    Example:
        >>> import torch
        >>> y = torch.tensor([0, 1, 0, 1, 2, -1])              # -1: unlabelled, left out
        >>> loss = SupervisedContrastiveLoss()({"text": torch.randn(6, 8), "audio": torch.randn(6, 8)}, y)
        >>> bool(loss >= 0)
        True
    """

    def __init__(self, tau: float = 0.1):
        super().__init__()
        self.tau = tau

    def forward(self, features: dict[str, Tensor], y: Tensor) -> Tensor:
        labelled = y >= 0
        y = y[labelled]
        same = y.unsqueeze(0) == y.unsqueeze(1)
        eye = torch.eye(y.numel(), dtype=torch.bool, device=y.device)
        positive, negative = same & ~eye, ~same
        anchors = positive.any(1) & negative.any(1)
        if not bool(anchors.any()):
            return next(iter(features.values())).sum() * 0.0
        total = 0.0
        for x in features.values():
            s = _similarity(x[labelled], x[labelled], self.tau)
            denominator = torch.logsumexp(s.masked_fill(~negative, float("-inf")), dim=1)     # [N]
            log_ratio = (s - denominator.unsqueeze(1)).masked_fill(~positive, 0.0)
            per_anchor = log_ratio.sum(1) / positive.sum(1).clamp(min=1)
            total = total - per_anchor[anchors].sum()
        return total / int(anchors.sum())
