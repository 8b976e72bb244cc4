"""MDGET-MER's gated uni-modal encoder (GUE, Chen et al. 2026, eqs. 1-5)."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.dropout import Dropout


def feed_forward(channels: int, dropout: float) -> torch.nn.Sequential:
    """:math:`FF(X) = \\mathrm{dropout}(FC(\\mathrm{dropout}(\\mathrm{GELU}(FC(X)))))` (MDGET-MER eq. 5).

    Example:
        >>> ff = feed_forward(16, dropout=0.1)
        >>> ff(torch.randn(5, 16)).shape, ff[0].out_features
        (torch.Size([5, 16]), 32)
    """
    return torch.nn.Sequential(torch.nn.Linear(channels, 2 * channels), torch.nn.GELU(), Dropout(dropout),
                               torch.nn.Linear(2 * channels, channels), Dropout(dropout))


class GatedUnimodalEncoder(torch.nn.Module):
    r"""One GUE layer, a node-feature transform (eqs. 1-5 of Chen et al., "MDGET-MER: Multi-Level
    Dynamic Gating and Emotion Transfer for Multi-Modal Emotion Recognition", 2026).

    .. math::
        G_1 &= \sigma(W_g^1 [X; \mathrm{GRU}(X)] + b_g^1) \\
        X_{rr} &= \mathrm{LN}(G_1 \odot X + (1 - G_1) \odot \mathrm{GRU}(X)) \\
        G_2 &= \sigma(W_g^2 [X; X_{rr}; FF(X_{rr})] + b_g^2) \\
        X_{fr} &= \mathrm{LN}(G_2 \odot X + (1 - G_2) \odot (X_{rr} + FF(X_{rr})))

    with a bidirectional GRU over each dialogue (padded internally, packed so
    padding never enters the recurrence). The paper shares one GUE across the
    three modalities; pass the same module for each. ``gates=False`` replaces
    :math:`G_1, G_2` by 0.5 (the "w/o GUE gates" ablation: an even mix).

    Shapes: ``x`` :math:`(N, d)`, ``batch`` :math:`(N)` -> :math:`(N, d)`.

    Args:
        channels: feature size :math:`d`.
        dropout: dropout in the feed-forward :math:`FF`.
        gates: learn :math:`G_1, G_2` (False: 0.5).

    With ``return_gates`` the forward also returns :math:`(G_1, G_2)`, each :math:`(N, d)`.

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> GatedUnimodalEncoder(16)(torch.randn(5, 16), batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, dropout: float = 0.1, gates: bool = True):
        super().__init__()
        if channels % 2:
            raise ValueError(f"channels must be even (two GRU directions), got {channels}")
        self.gru = torch.nn.GRU(channels, channels // 2, batch_first=True, bidirectional=True)
        self.gate1 = torch.nn.Linear(2 * channels, channels)
        self.gate2 = torch.nn.Linear(3 * channels, channels)
        self.ff = feed_forward(channels, dropout)
        self.norm1 = torch.nn.LayerNorm(channels)
        self.norm2 = torch.nn.LayerNorm(channels)
        self.gates = gates

    def _gate(self, layer: torch.nn.Linear, inputs: list[Tensor]) -> Tensor:
        if not self.gates:
            return inputs[0].new_full(inputs[0].shape, 0.5)
        return torch.sigmoid(layer(torch.cat(inputs, dim=-1)))

    def forward(self, x: Tensor, batch: Tensor | None = None, return_gates: bool = False):
        padded, mask = to_padded(x, batch)
        packed = torch.nn.utils.rnn.pack_padded_sequence(padded, mask.sum(1).cpu(), batch_first=True,
                                                         enforce_sorted=False)
        encoded, _ = self.gru(packed)
        encoded, _ = torch.nn.utils.rnn.pad_packed_sequence(encoded, batch_first=True, total_length=padded.size(1))
        context = from_padded(encoded, mask)                                      # GRU(X)
        g1 = self._gate(self.gate1, [x, context])                                 # eq. 1
        x_rr = self.norm1(g1 * x + (1 - g1) * context)                            # eq. 2
        ff = self.ff(x_rr)                                                        # eq. 5
        g2 = self._gate(self.gate2, [x, x_rr, ff])                                # eq. 3
        out = self.norm2(g2 * x + (1 - g2) * (x_rr + ff))                         # eq. 4
        return (out, (g1, g2)) if return_gates else out
