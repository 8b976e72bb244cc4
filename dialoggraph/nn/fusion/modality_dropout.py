"""AMB-DSGDN's adaptive modality dropout (Alg. 2, eqs. 19-27)."""
from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

EPS = 1e-5


PerformanceMetric = Literal["weighted_f1", "eq19"]
DropRule = Literal["released", "eq24"]
METRICS: tuple[str, ...] = ("weighted_f1", "eq19")
RULES: tuple[str, ...] = ("released", "eq24")


def modality_performance(pred: Tensor, y: Tensor, num_classes: int,
                         metric: PerformanceMetric = "weighted_f1") -> Tensor:
    r"""One modality's per-batch performance :math:`p_m` (AMB-DSGDN eq. 19), over labelled utterances.

    ``metric="weighted_f1"`` (default, the authors' code: scikit-learn's
    ``f1_score(average="weighted")``):

    .. math::
        p_m = \frac{\sum_c n_c F1_c}{\sum_c n_c},\qquad
        F1_c = \frac{2\,TP_c}{n_c + \hat n_c}

    with :math:`n_c` the true and :math:`\hat n_c` the predicted count of class
    :math:`c` (0 where both are 0). ``metric="eq19"`` is the paper's formula as printed:

    .. math::
        p_m = \frac{\sum_c w_c\, \mathrm{Precision}_c\, \mathrm{Recall}_c}{\sum_c w_c},
        \qquad w_c = \frac{N}{\sum_i \mathbb{I}(y_i = c)}

    over the classes present in ``y``; precision and recall of a class with no
    predictions / no examples count as 0.

    Example:
        Unlabelled utterances (``-1``) are left out; the default equals scikit-learn's weighted F1.

        >>> from sklearn.metrics import f1_score
        >>> pred, y = torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 1, 1, -1])
        >>> modality_performance(pred, y, num_classes=3)
        tensor(0.7667)
        >>> round(f1_score([0, 1, 1, 1], [0, 0, 1, 1], average="weighted"), 4)
        0.7667
        >>> modality_performance(pred, y, num_classes=3, metric="eq19")
        tensor(0.5417)
    """
    valid = y >= 0
    pred, y = pred[valid], y[valid]
    if y.numel() == 0:
        return pred.new_zeros((), dtype=torch.float)
    support = torch.bincount(y, minlength=num_classes).float()
    predicted = torch.bincount(pred, minlength=num_classes).float()
    true_positive = torch.bincount(y[pred == y], minlength=num_classes).float()
    if metric == "weighted_f1":
        f1 = 2 * true_positive / (support + predicted).clamp(min=1)
        return (support * f1).sum() / support.sum()
    precision = true_positive / predicted.clamp(min=1)
    recall = true_positive / support.clamp(min=1)
    present = support > 0
    weight = torch.where(present, y.numel() / support.clamp(min=1), torch.zeros_like(support))
    return (weight * precision * recall).sum() / weight.sum()


def dropout_probabilities(performance: Tensor, q_base: float = 0.3, scale: float = 0.9,
                          rule: DropRule = "released") -> Tensor:
    r"""Per-modality dropout probabilities from their performances (eqs. 20-24).

    ``rule="eq24"`` is the paper's formula as printed, for every modality:

    .. math::
        r_{m,j} = \frac{p_m}{p_j + \epsilon} - 1,\quad
        \hat{\mathbf{r}}_m = \operatorname{softmax}(\mathrm{ReLU}(\mathbf{r}_m)),\quad
        \bar r_m = \frac{\sum_j \hat r_{m,j} r_{m,j}}{|\mathbf{r}_m|},\quad
        q_m = \mathrm{clip}(q_{base}(1 + \lambda \bar r_m), 0, 1)

    so a modality that is *worse* than the others still gets
    :math:`q_m \approx q_{base}(1 - \lambda)` and, with a failing modality
    (:math:`p_j \approx 0`), :math:`r` explodes and the working modalities get :math:`q = 1`.

    ``rule="released"`` (default) is the authors' ``calcu_q``. It leaves out of
    :math:`\mathbf{r}_m` every :math:`j` with :math:`p_j < \epsilon`, and its
    ``nn.ReLU(inplace=True)`` overwrites the ratios before eq. 23 uses them, so the
    average is over the rectified ratios :math:`r^+ = \max(0, r)`:

    .. math::
        \bar r_m = \frac{\sum_j \operatorname{softmax}(\mathbf{r}^+_m)_j\, r^+_{m,j}}{|\mathbf{r}_m|},\qquad
        q_m = \begin{cases} \mathrm{clip}(q_{base}(1 + \lambda \bar r_m), 0, 1) & \bar r_m > 0 \\
        0 & \text{otherwise} \end{cases}

    A modality ahead of *any* other is dropped; only one that is ahead of none
    (the weakest) keeps :math:`q = 0`.

    Args:
        performance: ``[M]`` with ``M >= 2``.
        q_base: base probability :math:`q_{base}` (paper: 0.3).
        scale: :math:`\lambda` (paper: 0.9).
        rule: ``"released"`` or ``"eq24"``.

    Example:
        Text works (0.55), audio fails (0.0), vision is weaker (0.30). The released rule drops
        only the leading text; eq. 24 taken literally drops text and vision always. With
        performances .45 / .40 / .38 the released rule drops the middle modality too (it is
        ahead of the third), where the signed average of eq. 23 would give it 0.

        >>> performance = torch.tensor([0.55, 0.0, 0.30])
        >>> dropout_probabilities(performance)
        tensor([0.5250, 0.0000, 0.0000])
        >>> dropout_probabilities(performance, rule="eq24")
        tensor([1.0000, 0.1650, 1.0000])
        >>> dropout_probabilities(torch.tensor([0.45, 0.40, 0.38]))
        tensor([0.3210, 0.3036, 0.0000])
    """
    M = performance.numel()
    ratio = performance.unsqueeze(1) / (performance.unsqueeze(0) + EPS) - 1.0   # r[m, j]
    valid = ~torch.eye(M, dtype=torch.bool, device=performance.device)         # eq. 21: j != m
    if rule == "released":
        valid = valid & (performance >= EPS).unsqueeze(0)
    weight = torch.softmax(torch.relu(ratio).masked_fill(~valid, float("-inf")), dim=1)   # eq. 22
    weight = torch.nan_to_num(weight)                                          # rows with no valid j
    count = valid.sum(1)
    if rule == "released":                                                     # calcu_q's in-place ReLU
        ratio = torch.relu(ratio)
    r_bar = (weight * ratio.masked_fill(~valid, 0.0)).sum(1) / count.clamp(min=1)         # eq. 23
    q = q_base * (1.0 + scale * r_bar)                                         # eq. 24
    if rule == "released":
        q = torch.where((r_bar > 0) & (count > 0), q, torch.zeros_like(q))
    return q.clamp(0.0, 1.0)


class ExpectationScale(torch.autograd.Function):
    r""":math:`F'' = F' / (1 - \theta)` with :math:`\partial F''/\partial F' = 1/(1-\theta)` and no
    gradient to :math:`\theta` (eqs. 26-27).

    Example:
        With a quarter of the features dropped, the kept ones and their gradients scale by 4/3.

        >>> features = torch.ones(2, requires_grad=True)
        >>> scaled = ExpectationScale.apply(features, torch.tensor(0.25))
        >>> scaled.sum().backward()
        >>> scaled.detach(), features.grad
        (tensor([1.3333, 1.3333]), tensor([1.3333, 1.3333]))
    """

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
    predictions on the batch (eq. 19, :func:`modality_performance`) sets
    dropout probabilities :math:`q_m` (eqs. 20-24, :func:`dropout_probabilities`);
    a Bernoulli mask :math:`M_{m,b} \sim \mathrm{Bernoulli}(1 - q_m)` per
    modality and dialogue zeroes features (eq. 25); the kept features are
    rescaled by :math:`1/(1-\theta)`, :math:`\theta = \sum_m d_m q_m / \sum_m d_m`
    (eqs. 26-27). With a single modality it does nothing (there is nothing to
    balance).

    Collapse guard (reading): a dialogue whose draw dropped *every* modality
    keeps the one with the lowest :math:`q_m` (the authors' code removes such
    dialogues from the step instead). Under the default ``rule="released"``
    the weakest modality has :math:`q = 0`, so the guard never fires; under
    ``rule="eq24"`` it fires in a few percent of dialogues.

    Defaults are the authors' code (``metric="weighted_f1"``, ``rule="released"``):
    eq. 24 taken literally drops the two working modalities with
    :math:`q = 1` as soon as one modality fails (performances [.55, 0, .30]).

    Args:
        q_base: base dropout probability (paper: 0.3).
        scale: :math:`\lambda` (paper: 0.9).
        p_exe: probability that a batch is dropped at all (paper: 0.5).
        metric: ``"weighted_f1"`` or ``"eq19"`` (:func:`modality_performance`).
        rule: ``"released"`` or ``"eq24"`` (:func:`dropout_probabilities`).

    Returns from :meth:`forward`: the features (dict of ``[N, d_m]``) and the
    ``[M]`` probabilities used (``None`` when nothing was dropped).

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d_m)`; ``predictions``: modality ->
          predicted classes :math:`(N)`; ``y`` :math:`(N)` (-1: unlabelled); ``batch`` :math:`(N)`
        - **output:** modality -> :math:`(N, d_m)`, and the probabilities :math:`(M)` or ``None``

    Example:
        >>> import torch
        >>> drop = AdaptiveModalityDropout(p_exe=1.0).train()
        >>> features = {m: torch.randn(5, 16) for m in ("text", "audio")}
        >>> predictions = {m: torch.randint(0, 3, (5,)) for m in features}
        >>> out, q = drop(features, predictions, torch.randint(0, 3, (5,)), torch.tensor([0, 0, 0, 1, 1]), 3)
        >>> sorted(out), q.shape                            # q: each modality's drop probability
        (['audio', 'text'], torch.Size([2]))
    """

    def __init__(self, q_base: float = 0.3, scale: float = 0.9, p_exe: float = 0.5,
                 metric: PerformanceMetric = "weighted_f1", rule: DropRule = "released"):
        super().__init__()
        if metric not in METRICS or rule not in RULES:
            raise ValueError(f"metric must be one of {', '.join(METRICS)} and rule one of {', '.join(RULES)}, "
                             f"got {metric!r}, {rule!r}")
        self.q_base, self.scale, self.p_exe, self.metric, self.rule = q_base, scale, p_exe, metric, rule
        self.active = True

    def forward(self, features: dict[str, Tensor], predictions: dict[str, Tensor], y: Tensor,
                batch: Tensor | None, num_classes: int):
        modalities = list(features)
        if not (self.training and self.active and len(modalities) > 1) or \
                float(torch.rand(())) >= self.p_exe:
            return features, None
        if batch is None:
            batch = torch.zeros(y.numel(), dtype=torch.long, device=y.device)
        num_dialogues = int(batch.max()) + 1
        performance = torch.stack([modality_performance(predictions[m], y, num_classes, self.metric)
                                   for m in modalities])
        q = dropout_probabilities(performance, self.q_base, self.scale, self.rule)   # [M]
        keep = torch.rand(len(modalities), num_dialogues, device=y.device) >= q.unsqueeze(1)   # eq. 25
        collapsed = ~keep.any(dim=0)                                               # the guard
        keep[q.argmin(), collapsed] = True
        dims = torch.tensor([features[m].size(-1) for m in modalities], dtype=q.dtype, device=q.device)
        # eq. 26; capped below 1 as a numerical guard (eq. 24 allows q = 1 everywhere).
        theta = ((dims * q).sum() / dims.sum()).clamp(max=0.9)
        out = {m: ExpectationScale.apply(features[m] * keep[i][batch].unsqueeze(1).to(features[m].dtype), theta)
               for i, m in enumerate(modalities)}
        return out, q
