"""What every model returns."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class ModelOutput:
    """A model's answer for a batch.

    Attributes:
        logits: ``[N, C]`` class scores per utterance.
        aux_losses: named auxiliary losses, already weighted; the training loss
            is cross-entropy on ``y >= 0`` plus their sum.
        modality_logits: optional ``[N, C]`` per modality.
        attention: optional named attention weights, for inspection: per-utterance tensors
            ``[N, ...]`` (gates, fusion weights) or ``(edge_index, alpha)`` pairs, ``alpha``
            ``[E]``, for attention over edges (a model fills those when its ``forward`` is
            called with ``return_attention_weights=True``).
        ce_weight: the cross-entropy's weight in the training loss (1 unless
            the paper's loss weighs it, e.g. MFCRE eq. 15's 1 - mu1 - mu2).
    """

    logits: Tensor
    aux_losses: dict[str, Tensor] = field(default_factory=dict)
    modality_logits: dict[str, Tensor] = field(default_factory=dict)
    attention: dict[str, Tensor | tuple[Tensor, Tensor]] = field(default_factory=dict)
    ce_weight: float = 1.0
