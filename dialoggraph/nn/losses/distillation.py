"""Teacher-student cross-modal distillation (a reading of CMGFE's dual-supervision loss)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


class CrossModalDistillationLoss(torch.nn.Module):
    r"""Pulls unimodal / bimodal students towards the trimodal teacher.

    .. math::
        \mathcal{L}_{KL} = \frac{T^2}{|S|} \sum_{s \in S}
            \mathrm{KL}\big(\operatorname{softmax}(z_{teacher}/T)\,\Vert\,\operatorname{softmax}(z_s/T)\big),
        \qquad
        \mathcal{L}_{feat} = \frac{1}{|S|} \sum_{s \in S} \lVert \mathbf{h}_s - \mathbf{h}_{teacher} \rVert_2^2 / d

    over labelled or unlabelled utterances alike (``mask`` selects). The
    teacher is detached: it learns from the labels (its own cross-entropy),
    the students from the labels and from the teacher -- the "dual
    supervision" of the CMGFE abstract. Both terms are 0 when every student
    equals the teacher.

    Args:
        temperature: softening temperature :math:`T`.

    Shapes:
        - **input:** ``student_logits``: :math:`|S|` tensors :math:`(N, C)`; ``teacher_logits``
          :math:`(N, C)`; ``student_features``: tensors :math:`(N, d)`; ``teacher_features``
          :math:`(N, d)`; ``mask`` :math:`(N)` boolean (optional)
        - **output:** :math:`(\mathcal{L}_{KL}, \mathcal{L}_{feat})`, two scalars

    Example:
        >>> import torch
        >>> kl, feature = CrossModalDistillationLoss()([torch.randn(5, 7)], torch.randn(5, 7),
        ...                                            [torch.randn(5, 16)], torch.randn(5, 16))
        >>> kl.dim(), feature.dim()
        (0, 0)
    """

    def __init__(self, temperature: float = 2.0):
        super().__init__()
        self.temperature = temperature

    def forward(self, student_logits: list[Tensor], teacher_logits: Tensor, student_features: list[Tensor],
                teacher_features: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if mask is not None:
            student_logits = [s[mask] for s in student_logits]
            student_features = [s[mask] for s in student_features]
            teacher_logits, teacher_features = teacher_logits[mask], teacher_features[mask]
        if not student_logits or teacher_logits.numel() == 0:
            zero = teacher_logits.sum() * 0.0
            return zero, zero
        T = self.temperature
        target = F.softmax(teacher_logits.detach() / T, dim=-1)
        kl = sum(F.kl_div(F.log_softmax(s / T, dim=-1), target, reduction="batchmean") for s in student_logits)
        feat = sum(F.mse_loss(s, teacher_features.detach()) for s in student_features)
        return kl * T * T / len(student_logits), feat / len(student_features)
