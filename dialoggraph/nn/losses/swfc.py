"""MFCRE's sample-weighted focal contrastive loss (Qi et al., eqs. 11-12)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


class SampleWeightedFocalContrastiveLoss(torch.nn.Module):
    r"""SWFC loss, averaged over anchors (eqs. 11-12 of Qi, Ibrayim & Tohti, "Contextual
    xLSTM-Based Multimodal Fusion for Conversational Emotion Recognition").

    .. math::
        s_{j,g} = \frac{\exp(\mathbf{z}_j^\top \mathbf{z}_g / \tau)}{\sum_{s \ne j} \exp(\mathbf{z}_j^\top \mathbf{z}_s / \tau)},
        \qquad
        L = -\frac{1}{N} \sum_j \Big(\frac{N}{n_{y_j}}\Big)^{\alpha} \frac{1}{|R_j|}
            \sum_{g \in R_j} (1 - s_{j,g})^{\gamma} \log s_{j,g}

    over the labelled utterances of a batch (``N`` of them; :math:`R_j`: the
    others with :math:`j`'s label; :math:`n_c`: the batch count of class
    ``c``). Anchors without a positive add nothing. A batch-level loss:
    ``[N, N]`` similarities.

    Args: ``tau`` 0.9, ``alpha`` 0.8, ``gamma`` 3 (the paper's values).
    Two departures from eqs. 11-12 that MultiEMO's released implementation
    makes, both off by default: ``normalize`` L2-normalises :math:`\mathbf{z}`
    (eq. 11 writes raw dot products, so the loss grows with the feature
    norm); ``normalize_weights`` divides the class weights
    :math:`(N/n_c)^\alpha` by their sum over the classes present, so they sum
    to 1 (in batches of 16 MELD dialogues eq. 12's weights run from about 1.5
    for the majority class to about 20 for the rarest, and make this term
    outweigh the cross-entropy many times over; docs/mfcre.md). The counts
    :math:`n_c` are always the batch's, as eq. 12 says; MultiEMO's code instead
    counts the whole training set once and L1-normalises those weights: with
    ``num_classes`` given, :meth:`set_class_counts` stores the training set's
    counts (a buffer, saved with the model) and the weights become
    :math:`(N_{train}/n^{train}_c)^\alpha`, normalised over all classes when
    ``normalize_weights``.

    Shapes:
        - **input:** ``z`` :math:`(N, d)`; ``y`` :math:`(N)` (-1: unlabelled)
        - **output:** a scalar

    Example:
        >>> import torch
        >>> loss = SampleWeightedFocalContrastiveLoss()(torch.randn(6, 8), torch.tensor([0, 1, 0, 1, 2, 2]))
        >>> loss.dim()
        0
    """

    def __init__(self, tau: float = 0.9, alpha: float = 0.8, gamma: float = 3.0, normalize: bool = False,
                 normalize_weights: bool = False, num_classes: int | None = None):
        super().__init__()
        self.tau, self.alpha, self.gamma = tau, alpha, gamma
        self.normalize, self.normalize_weights = normalize, normalize_weights
        if num_classes is not None:
            self.register_buffer("class_counts", torch.zeros(num_classes))

    def set_class_counts(self, counts: Tensor) -> None:
        """Weigh the classes by these training-set counts :math:`(C)` instead of each batch's."""
        self.class_counts.copy_(counts)

    def class_weights(self, y: Tensor) -> Tensor:
        """The weight of each class, from the stored training counts or from the batch ``y``."""
        stored = getattr(self, "class_counts", None)
        counts = stored if stored is not None and stored.sum() > 0 else torch.bincount(y).float()
        weight = (counts.sum() / counts.clamp(min=1)).pow(self.alpha)                # (N / n_c)^alpha
        if self.normalize_weights:
            weight = weight / weight[counts > 0].sum()
        return weight

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        labelled = y >= 0
        z, y = z[labelled], y[labelled]
        if self.normalize:
            z = F.normalize(z, dim=-1)
        n = y.numel()
        if n < 2:
            return z.sum() * 0.0
        eye = torch.eye(n, dtype=torch.bool, device=z.device)
        logits = (z @ z.t() / self.tau).masked_fill(eye, float("-inf"))
        positive = (y.unsqueeze(0) == y.unsqueeze(1)) & ~eye
        log_s = logits - torch.logsumexp(logits, dim=1, keepdim=True)            # eq. 11 (log)
        log_s = log_s.masked_fill(~positive, 0.0)       # drop the -inf diagonal before it meets a 0 gradient
        focal = (1 - log_s.exp()).clamp(min=0).pow(self.gamma) * log_s
        per_anchor = focal.sum(1) / positive.sum(1).clamp(min=1)
        weight = self.class_weights(y)[y]
        return -(weight * per_anchor).sum() / n
