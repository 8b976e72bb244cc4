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
