"""The Soft-HGR maximal-correlation loss (MFCRE eq. 13; Wang et al., 2019)."""
from __future__ import annotations

from itertools import combinations

import torch
from torch import Tensor


class SoftHGRLoss(torch.nn.Module):
    r"""Negative Soft-HGR correlation between every pair of modality features (MFCRE eq. 13).

    .. math::
        L = -\sum_{\{Q, V\} \subset F} \Big(\mathbb{E}[\mathbf{q}^\top \mathbf{v}]
            - \tfrac12 \operatorname{tr}(\operatorname{cov}(Q)\operatorname{cov}(V))\Big),
        \qquad \mathbb{E}[\mathbf{q}] = 0

    with features centred over the batch, sample means and sample covariances
    (``N - 1``). Each unordered pair counts once (the term is symmetric).

    It takes no arguments and has no parameters.

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`, :math:`N \ge 2`
        - **output:** a scalar

    Example:
        >>> import torch
        >>> loss = SoftHGRLoss()({m: torch.randn(6, 8) for m in ("text", "audio")})
        >>> loss.dim()
        0
    """

    def forward(self, features: dict[str, Tensor]) -> Tensor:
        centred = {m: x - x.mean(0, keepdim=True) for m, x in features.items()}
        n = next(iter(features.values())).size(0)
        if len(centred) < 2 or n < 2:
            return next(iter(features.values())).sum() * 0.0
        cov = {m: x.t() @ x / (n - 1) for m, x in centred.items()}
        total = 0.0
        for a, b in combinations(centred, 2):
            inner = (centred[a] * centred[b]).sum(1).mean()
            total = total + inner - 0.5 * (cov[a] * cov[b].t()).sum()            # tr(AB) = sum(A * B^T)
        return -total
