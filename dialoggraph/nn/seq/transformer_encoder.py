"""A per-dialogue Transformer encoder with sinusoidal positions and speaker embeddings."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded


def sinusoidal_positions(length: int, channels: int, device: torch.device | None = None) -> Tensor:
    r"""``[length, channels]``: :math:`PE(p, 2j) = \sin(p / 10000^{2j/d})`,
    :math:`PE(p, 2j+1) = \cos(p / 10000^{2j/d})` (AMB-DSGDN eq. 2)."""
    position = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, channels, 2, device=device, dtype=torch.float32)
                          * (-math.log(10000.0) / channels))
    table = torch.zeros(length, channels, device=device)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, :channels // 2]
    return table


class DialogueTransformerEncoder(torch.nn.Module):
    r"""AMB-DSGDN's utterance-level context encoder for one modality (eqs. 2-6).

    .. math::
        \mathbf{x}_i &\leftarrow \mathbf{x}_i + PE(i) + E_s(s_i) \\
        \mathbf{x} &\leftarrow \mathrm{LN}(\mathbf{x} + \mathrm{MHA}(\mathbf{x}))
            \qquad \text{(eq. 4, within each dialogue)} \\
        \mathbf{x} &\leftarrow \mathbf{W}_2\,\mathrm{GELU}(\mathbf{W}_1 \mathrm{LN}(\mathbf{x})) + \mathbf{x}
            \qquad \text{(eq. 5)}

    A node-feature transform: flat ``[N, D]`` features plus ``batch`` in,
    ``[N, D]`` out; dialogues are padded internally and padding is masked, so
    no information crosses dialogues. ``i`` is the utterance's position in its
    dialogue and ``s_i`` its dialogue-local speaker id (ids beyond
    ``num_speakers - 1`` share the last embedding). Returns the attention
    weights ``[B, L, L]`` too when asked (eq. 6's :math:`\mathbf{A}_{attn}`).

    Args:
        channels: feature size :math:`d_h`.
        heads: attention heads (:math:`d_k = d_h / h`).
        num_speakers: size of the speaker embedding table.
        dropout: dropout in attention and after each sublayer.
    """

    def __init__(self, channels: int, heads: int = 8, num_speakers: int = 10, dropout: float = 0.1):
        super().__init__()
        self.channels = channels
        self.speaker = torch.nn.Embedding(num_speakers, channels)
        self.attention = torch.nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)
        self.norm_attention = torch.nn.LayerNorm(channels)
        self.norm_ffn = torch.nn.LayerNorm(channels)
        self.ffn = torch.nn.Sequential(torch.nn.Linear(channels, 4 * channels), torch.nn.GELU(),
                                       torch.nn.Dropout(dropout), torch.nn.Linear(4 * channels, channels))
        self.dropout = dropout

    def forward(self, x: Tensor, batch: Tensor | None, speaker: Tensor,
                return_attention_weights: bool = False):
        padded, mask = to_padded(x, batch)                                  # [B, L, D], [B, L]
        speakers, _ = to_padded(speaker.clamp(max=self.speaker.num_embeddings - 1), batch)
        padded = padded + sinusoidal_positions(padded.size(1), self.channels, x.device) + self.speaker(speakers)
        attended, weights = self.attention(padded, padded, padded, key_padding_mask=~mask,
                                           need_weights=return_attention_weights)
        h = self.norm_attention(padded + F.dropout(attended, self.dropout, self.training))
        h = h + F.dropout(self.ffn(self.norm_ffn(h)), self.dropout, self.training)
        out = from_padded(h, mask)
        return (out, weights) if return_attention_weights else out
