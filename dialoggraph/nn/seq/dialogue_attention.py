"""Multi-head attention within each dialogue, on flat node features."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded


class DialogueAttention(torch.nn.Module):
    """``MHA(query, key, key)`` restricted to each dialogue: flat ``[N, D]`` in and out.

    Queries and keys are padded per dialogue and the padding is masked, so an
    utterance attends to every utterance of its own dialogue (past and
    future) and to nothing else.
    """

    def __init__(self, channels: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)

    def forward(self, query: Tensor, key: Tensor, batch: Tensor | None) -> Tensor:
        q, mask = to_padded(query, batch)
        k, _ = to_padded(key, batch)
        out, _ = self.attention(q, k, k, key_padding_mask=~mask, need_weights=False)
        return from_padded(out, mask)


class DialogueTransformerLayer(torch.nn.Module):
    r"""A post-LN transformer encoder layer with separate query and key/value inputs, per dialogue:

    .. math::
        \bar{\mathbf{X}} = \mathrm{LN}(\mathrm{MHA}(\mathbf{Q}, \mathbf{K}, \mathbf{K}) + \mathbf{R}),\qquad
        \mathrm{out} = \mathrm{LN}(\mathrm{FFN}_{ReLU}(\bar{\mathbf{X}}) + \bar{\mathbf{X}})

    ``Transformer(Q, K, V)`` of MFCRE eqs. 4-5 (residual ``R = Q``) and the
    language-guided blocks of LFVD eqs. 6-7 (residual: the attended modality).
    The feed-forward is twice as wide as ``channels``.
    """

    def __init__(self, channels: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.attention = DialogueAttention(channels, heads, dropout)
        self.norm1 = torch.nn.LayerNorm(channels)
        self.ffn = torch.nn.Sequential(torch.nn.Linear(channels, 2 * channels), torch.nn.ReLU(),
                                       torch.nn.Dropout(dropout), torch.nn.Linear(2 * channels, channels))
        self.norm2 = torch.nn.LayerNorm(channels)

    def forward(self, query: Tensor, key: Tensor, batch: Tensor | None, residual: Tensor | None = None) -> Tensor:
        bar = self.norm1(self.attention(query, key, batch) + (query if residual is None else residual))
        return self.norm2(self.ffn(bar) + bar)
