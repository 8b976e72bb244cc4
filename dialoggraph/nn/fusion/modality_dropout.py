"""AMB-DSGDN's adaptive modality dropout (Alg. 2, eqs. 19-27)."""
from __future__ import annotations

import torch
from torch import Tensor

EPS = 1e-5


def modality_performance(pred: Tensor, y: Tensor, num_classes: int) -> Tensor:
    r"""The paper's per-batch "weighted F1" of one modality's predictions (eq. 19).

    .. math::
        p_m = \frac{\sum_c w_c\, \mathrm{Precision}_c\, \mathrm{Recall}_c}{\sum_c w_c},
        \qquad w_c = \frac{N}{\sum_i \mathbb{I}(y_i = c)}

    over the classes present in ``y`` (labelled utterances only). Precision
    and recall of a class with no predictions / no examples count as 0.
    """
    valid = y >= 0
    pred, y = pred[valid], y[valid]
    if y.numel() == 0:
        return pred.new_zeros((), dtype=torch.float)
    support = torch.bincount(y, minlength=num_classes).float()
    predicted = torch.bincount(pred, minlength=num_classes).float()
    true_positive = torch.bincount(y[pred == y], minlength=num_classes).float()
    precision = true_positive / predicted.clamp(min=1)
    recall = true_positive / support.clamp(min=1)
    present = support > 0
    weight = torch.where(present, y.numel() / support.clamp(min=1), torch.zeros_like(support))
    return (weight * precision * recall).sum() / weight.sum()


def dropout_probabilities(performance: Tensor, q_base: float = 0.3, scale: float = 0.9) -> Tensor:
    r"""Per-modality dropout probabilities from their performances (eqs. 20-24).

    .. math::
        r_{m,j} = \frac{p_m}{p_j + \epsilon} - 1,\quad
        \hat{\mathbf{r}}_m = \operatorname{softmax}(\mathrm{ReLU}(\mathbf{r}_m)),\quad
        \bar r_m = \frac{\sum_j \hat r_{m,j} r_{m,j}}{|\mathbf{r}_m|},\quad
        q_m = \mathrm{clip}(q_{base}(1 + \lambda \bar r_m), 0, 1)

    Args:
        performance: ``[M]`` with ``M >= 2``.
    """
    M = performance.numel()
    ratio = performance.unsqueeze(1) / (performance.unsqueeze(0) + EPS) - 1.0   # r[m, j]
    off_diagonal = ~torch.eye(M, dtype=torch.bool, device=performance.device)
    r = ratio[off_diagonal].view(M, M - 1)                                    # eq. 21
    r_hat = torch.softmax(torch.relu(r), dim=1)                               # eq. 22
    r_bar = (r_hat * r).sum(1) / (M - 1)                                      # eq. 23
    return (q_base * (1.0 + scale * r_bar)).clamp(0.0, 1.0)                   # eq. 24


class ExpectationScale(torch.autograd.Function):
    r""":math:`F'' = F' / (1 - \theta)` with :math:`\partial F''/\partial F' = 1/(1-\theta)` and no
    gradient to :math:`\theta` (eqs. 26-27)."""

    @staticmethod
    def forward(ctx, x: Tensor, theta: Tensor) -> Tensor:
        ctx.factor = 1.0 / (1.0 - float(theta))
        return x * ctx.factor

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad * ctx.factor, None


class AdaptiveModalityDropout(torch.nn.Module):
    r"""Drops whole modalities per dialogue, more often for the modality that performs best
    (AMB-DSGDN Alg. 2, eqs. 19-27).

    In training, once ``active`` (after the warm-up epochs), with probability
    ``p_exe`` per batch: the performance :math:`p_m` of each modality's own
    predictions on the batch (eq. 19) sets dropout probabilities :math:`q_m`
    (eqs. 20-24); a Bernoulli mask :math:`M_{m,b} \sim \mathrm{Bernoulli}(1 - q_m)`
    per modality and dialogue zeroes features (eq. 25); the kept features are
    rescaled by :math:`1/(1-\theta)`, :math:`\theta = \sum_m d_m q_m / \sum_m d_m`
    (eqs. 26-27); dialogues with every modality dropped are flagged so the
    step leaves them out (:math:`\mathbf{u}`). With a single modality it does
    nothing (there is nothing to balance).

    Args:
        q_base: base dropout probability (paper: 0.3).
        scale: :math:`\lambda` (paper: 0.9).
        p_exe: probability that a batch is dropped at all (paper: 0.5).

    Returns from :meth:`forward`: the features (dict of ``[N, d_m]``), the
    ``[N]`` bool mask of utterances whose dialogue kept a modality, and the
    ``[M]`` probabilities used (``None`` when nothing was dropped).
    """

    def __init__(self, q_base: float = 0.3, scale: float = 0.9, p_exe: float = 0.5):
        super().__init__()
        self.q_base, self.scale, self.p_exe = q_base, scale, p_exe
        self.active = True

    def forward(self, features: dict[str, Tensor], predictions: dict[str, Tensor], y: Tensor,
                batch: Tensor | None, num_classes: int):
        modalities = list(features)
        n = y.numel()
        keep_all = torch.ones(n, dtype=torch.bool, device=y.device)
        if not (self.training and self.active and len(modalities) > 1) or \
                float(torch.rand(())) >= self.p_exe:
            return features, keep_all, None
        if batch is None:
            batch = torch.zeros(n, dtype=torch.long, device=y.device)
        num_dialogues = int(batch.max()) + 1
        performance = torch.stack([modality_performance(predictions[m], y, num_classes) for m in modalities])
        q = dropout_probabilities(performance, self.q_base, self.scale)          # [M]
        keep = torch.rand(len(modalities), num_dialogues, device=y.device) >= q.unsqueeze(1)   # eq. 25
        dims = torch.tensor([features[m].size(-1) for m in modalities], dtype=q.dtype, device=q.device)
        # eq. 26; capped below 1 as a numerical guard (with 3 modalities and q_base 0.3
        # theta stays near 0.3-0.5, far from the cap).
        theta = ((dims * q).sum() / dims.sum()).clamp(max=0.9)
        out = {m: ExpectationScale.apply(features[m] * keep[i][batch].unsqueeze(1).to(features[m].dtype), theta)
               for i, m in enumerate(modalities)}
        kept_dialogue = keep.any(dim=0)                                           # u_b
        return out, kept_dialogue[batch], q
