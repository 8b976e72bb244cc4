"""MDGET-MER's gated enhanced emotion transfer module (Gated EETM, eqs. 32-39)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from dialoggraph.nn.dropout import dropout


def transfer_labels(y: Tensor, pairs: Tensor) -> Tensor:
    """1 where the two utterances' gold emotions differ, 0 where they agree, -1 when either is unlabeled.

    Example:
        >>> import torch
        >>> transfer_labels(torch.tensor([2, 2, 5, -1]), torch.tensor([[0, 1, 2], [1, 2, 3]]))
        tensor([ 0,  1, -1])
    """
    a, b = y[pairs[0]], y[pairs[1]]
    labels = (a != b).long()
    return torch.where((a < 0) | (b < 0), torch.full_like(labels, -1), labels)


class GatedEmotionTransfer(torch.nn.Module):
    r"""Predicts, for utterance pairs, whether the emotion changes between them (eqs. 34-39).

    For a pair :math:`(i, j)` with representations :math:`h_i \in H` and
    :math:`h'_j \in H'` (the same encoder run twice, eqs. 32-33):

    .. math::
        G_{trans}(i, j) &= \sigma(W_g^{trans} [h_i; h'_j] + b_g^{trans}) \\
        t_{ij} &= G_{trans}(i, j)\, [h_i; h'_j] \\
        z'_{ij} &= \operatorname{softmax}(W_{smaxs}\, \mathrm{dropout}(\mathrm{ReLU}(W'_l t_{ij})))

    and the loss is the cross-entropy against the transfer labels
    (:func:`transfer_labels`) over the pairs whose gate exceeds ``threshold`` (:math:`\tau`) and
    whose two utterances are labelled (eq. 39). Pairs are given as an
    ``edge_index`` (the model passes a dialogue graph's edges, so cost is
    O(edges), never ``L x L``); source ``j`` = ``pairs[0]``, target ``i`` = ``pairs[1]``.
    ``gate=False`` sets :math:`G_{trans} = 1` (every pair counts).

    Args:
        channels: size of :math:`h_i` and :math:`h'_j`.
        hidden: size of the classifier's hidden layer (default ``channels``).
        dropout: dropout in the transfer classifier.
        threshold: :math:`\tau`: pairs whose gate exceeds it count in the loss.
        gate: learn :math:`G_{trans}` (False: 1).

    Shapes:
        - **input:** ``h``, ``h_prime`` :math:`(N, \text{channels})`; ``pairs`` :math:`(2, P)`;
          ``y`` :math:`(N)` (-1: unlabelled)
        - **output:** the loss (a scalar), the logits :math:`(P, 2)` and the gates :math:`(P)`

    Example:
        >>> import torch
        >>> pairs = torch.tensor([[0, 1, 2], [1, 2, 3]])             # utterance pairs (j, i) of a dialogue
        >>> loss, logits, gate = GatedEmotionTransfer(16)(torch.randn(4, 16), torch.randn(4, 16), pairs,
        ...                                               torch.tensor([0, 0, 1, 1]))
        >>> loss.dim()
        0
    """

    def __init__(self, channels: int, hidden: int | None = None, dropout: float = 0.1, threshold: float = 0.5,
                 gate: bool = True):
        super().__init__()
        hidden = hidden or channels
        self.gate = torch.nn.Linear(2 * channels, 1)
        self.hidden = torch.nn.Linear(2 * channels, hidden)
        self.out = torch.nn.Linear(hidden, 2)
        self.dropout, self.threshold, self.use_gate = dropout, threshold, gate

    def forward(self, h: Tensor, h_prime: Tensor, pairs: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Returns ``(loss, logits [P, 2], gate [P])``; the loss is 0 when no pair qualifies."""
        j, i = pairs
        joint = torch.cat([h[i], h_prime[j]], dim=-1)                             # [h_i ; h'_j]
        gate = torch.sigmoid(self.gate(joint)).squeeze(-1) if self.use_gate else joint.new_ones(joint.size(0))
        t = gate.unsqueeze(-1) * joint                                            # eqs. 34-35
        logits = self.out(dropout(F.relu(self.hidden(t)), self.dropout, self.training))   # eqs. 36-37
        labels = transfer_labels(y, torch.stack([i, j]))
        keep = (labels >= 0) & (gate > self.threshold if self.use_gate else torch.ones_like(labels, dtype=torch.bool))
        loss = F.cross_entropy(logits[keep], labels[keep]) if bool(keep.any()) else logits.sum() * 0.0   # eq. 39
        return loss, logits, gate
