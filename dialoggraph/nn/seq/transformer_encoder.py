"""A per-dialogue Transformer encoder with sinusoidal positions and speaker embeddings."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.data.padding import dialogue_positions
from dialoggraph.nn.dropout import dropout
from dialoggraph.nn.seq.dialogue_attention import attend_within_dialogues


def sinusoidal_positions(length: int, channels: int, device: torch.device | None = None) -> Tensor:
    r"""``[length, channels]``: :math:`PE(p, 2j) = \sin(p / 10000^{2j/d})`,
    :math:`PE(p, 2j+1) = \cos(p / 10000^{2j/d})` (AMB-DSGDN eq. 2).

    Example:
        >>> sinusoidal_positions(3, 4)[0]                  # position 0: sin 0 = 0, cos 0 = 1
        tensor([0., 1., 0., 1.])
    """
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
        \mathbf{x}_i &\leftarrow \mathrm{Dropout}(\mathbf{x}_i + PE(i) + E_s(s_i))
            \qquad \text{(eqs. 2-3)} \\
        \mathbf{x} &\leftarrow \mathbf{x} + \mathrm{Dropout}(\mathrm{MHA}(\mathbf{x}))
            \qquad \text{(eq. 4, within each dialogue)} \\
        \mathbf{x} &\leftarrow \mathbf{x} + \mathrm{Dropout}\big(\mathbf{W}_2\,
            \mathrm{Dropout}(\mathrm{GELU}(\mathbf{W}_1 \mathrm{LN}(\mathbf{x})))\big)
            \qquad \text{(eq. 5)}

    As in the paper's eqs. 3-5 and the authors' code (github wys-ljq/AMB-DSGDN,
    ``TransformerEncoder`` with one layer): no LayerNorm after the attention
    (the first layer's pre-attention LayerNorm is skipped there too), a
    pre-LayerNorm feed-forward of width ``ffn_channels`` (the code's
    ``d_ff = hidden``) with the tanh-approximated GELU, and dropout after
    positions + speakers.

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
        dropout: dropout after the embeddings, in attention, inside and after each sublayer.
        ffn_channels: inner width of the feed-forward (default ``channels``, the authors' code).

    Shapes:
        - **input:** ``x`` :math:`(N, D)`, ``batch`` :math:`(N)`, ``speaker`` :math:`(N)`
        - **output:** :math:`(N, D)` (and :math:`(B, L, L)` weights when asked)

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> encoder = DialogueTransformerEncoder(16, heads=4)
        >>> encoder(torch.randn(5, 16), batch, torch.tensor([0, 1, 0, 0, 1])).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, heads: int = 8, num_speakers: int = 10, dropout: float = 0.1,
                 ffn_channels: int | None = None):
        super().__init__()
        self.channels = channels
        inner = ffn_channels or channels
        self.speaker = torch.nn.Embedding(num_speakers, channels)
        self.attention = torch.nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)
        self.norm_ffn = torch.nn.LayerNorm(channels, eps=1e-6)
        self.ffn_in = torch.nn.Linear(channels, inner)
        self.ffn_out = torch.nn.Linear(inner, channels)
        self.dropout = dropout

    def forward(self, x: Tensor, batch: Tensor | None, speaker: Tensor,
                return_attention_weights: bool = False):
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        position, lengths = dialogue_positions(batch)
        table = sinusoidal_positions(int(lengths.max()) if x.size(0) else 0, self.channels, x.device)
        h = x + table[position] + self.speaker(speaker.clamp(max=self.speaker.num_embeddings - 1))
        h = dropout(h, self.dropout, self.training)                        # eqs. 2-3
        # Projections on the real utterances only; the attention pads them per dialogue.
        mha = self.attention
        qkv = F.linear(h, mha.in_proj_weight, mha.in_proj_bias)
        attended = attend_within_dialogues(qkv, batch, mha.num_heads, mha.dropout if self.training else 0.0,
                                           return_weights=return_attention_weights)
        attended, weights = attended if return_attention_weights else (attended, None)
        h = h + dropout(mha.out_proj(attended), self.dropout, self.training)                   # eq. 4
        inner = dropout(F.gelu(self.ffn_in(self.norm_ffn(h)), approximate="tanh"), self.dropout, self.training)
        out = h + dropout(self.ffn_out(inner), self.dropout, self.training)  # eq. 5
        return (out, weights) if return_attention_weights else out
