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

    ``form="released"`` is what MultiEMO's and MFCRE's released ``SoftHGRLoss``
    compute instead: no centring, ``torch.cov`` of the ``[N, d]`` features
    (rows are its variables, so an :math:`N \times N` covariance between the
    utterances over their channels) and two divisions by :math:`N`:

    .. math::
        L = -\frac1N \sum_{\{Q, V\}} \Big(\frac1N \sum_i \mathbf{q}_i^\top \mathbf{v}_i
            - \frac{1}{2N} \operatorname{tr}(\operatorname{cov}(Q^\top)\operatorname{cov}(V^\top))\Big)

    Args:
        form: ``"paper"`` (eq. 13, default) or ``"released"``.

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`, :math:`N \ge 2`
        - **output:** a scalar

    Example:
        >>> import torch
        >>> loss = SoftHGRLoss()({m: torch.randn(6, 8) for m in ("text", "audio")})
        >>> loss.dim()
        0
    """

    def __init__(self, form: str = "paper"):
        super().__init__()
        if form not in ("paper", "released"):
            raise ValueError(f"form must be 'paper' or 'released', got {form!r}")
        self.form = form

    def forward(self, features: dict[str, Tensor]) -> Tensor:
        n = next(iter(features.values())).size(0)
        if len(features) < 2 or n < 2:
            return next(iter(features.values())).sum() * 0.0
        if self.form == "released":
            return self._released(features)
        centred = {m: x - x.mean(0, keepdim=True) for m, x in features.items()}
        cov = {m: x.t() @ x / (n - 1) for m, x in centred.items()}
        total = 0.0
        for a, b in combinations(centred, 2):
            inner = (centred[a] * centred[b]).sum(1).mean()
            total = total + inner - 0.5 * (cov[a] * cov[b].t()).sum()            # tr(AB) = sum(A * B^T)
        return -total

    @staticmethod
    def _released(features: dict[str, Tensor]) -> Tensor:
        n = next(iter(features.values())).size(0)
        total = 0.0
        for a, b in combinations(features, 2):
            x, y = features[a], features[b]
            mapping = (x * y).sum(-1).mean()
            # tr(cov(X^T) cov(Y^T)) = ||X_c^T Y_c||^2 / ((d_x - 1)(d_y - 1)), rows centred: no N x N matrix
            xc, yc = x - x.mean(1, keepdim=True), y - y.mean(1, keepdim=True)
            trace = (xc.t() @ yc).pow(2).sum() / ((x.size(1) - 1) * (y.size(1) - 1))
            total = total + mapping - trace / n / 2
        return -total / n
