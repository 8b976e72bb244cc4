"""MFCRE's modality encoder: a width-1 convolution into the shared space, then an intra-modal transformer
(sec. 3.3, eq. 4 of Qi, Ibrayim & Tohti, "Contextual xLSTM-Based Multimodal Fusion for Conversational
Emotion Recognition")."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.nn.dropout import dropout
from dialoggraph.nn.seq.dialogue_attention import DialogueAttention


class ModalityEncoder(torch.nn.Module):
    r"""One modality's encoder, as the authors' code computes it (github rhoqwomda/MFCRE, ``Model/model.py``:
    ``textf`` / ``acouf`` / ``visuf`` and the intra-modal ``TransformerEncoder``).

    .. math::
        \mathbf{H}^{(0)} &= \mathrm{Dropout}(\mathrm{Conv1d}_1(\mathbf{X})) \\
        \bar{\mathbf{H}} &= \mathbf{H}^{(l)} \text{ for } l = 0,\quad \mathrm{LN}(\mathbf{H}^{(l)}) \text{ for } l > 0 \\
        \mathbf{A} &= \bar{\mathbf{H}} + \mathrm{Dropout}(\mathrm{MHA}(\bar{\mathbf{H}}, \bar{\mathbf{H}}, \bar{\mathbf{H}}))
            \qquad \text{(eq. 4)} \\
        \mathbf{H}^{(l+1)} &= \mathbf{A} + \mathrm{Dropout}\big(\mathbf{W}_2\, \mathrm{Dropout}(\mathrm{GELU}(
            \mathbf{W}_1 \mathrm{LN}(\mathbf{A})))\big)

    for ``layers`` layers: no LayerNorm before the first layer's attention, a
    pre-LN feed-forward with the exact GELU, dropout on the attention weights,
    attention within each dialogue (padding masked). The convolution has no
    bias and kernel 1, so it maps each utterance alone. As released: the
    position encoding returns its input unchanged (no positions are added),
    and of the intra- and inter-modal transformers (eqs. 4-5) the code
    concatenates the three outputs and keeps the first third, so only the
    intra-modal one (eq. 4) reaches the classifier; the inter-modal ones are
    not built here.

    Reading: the released convolution outputs ``hidden_dim`` (1024) channels
    that its MultiAttn (``model_dim`` 256) cannot take; here it outputs
    ``channels``, the width MultiAttn reads.

    Args:
        in_channels: input feature size.
        channels: the shared width :math:`d`.
        layers: transformer layers (2 in the release).
        heads: attention heads.
        ffn_channels: the feed-forward's inner width (default ``channels``: the release's ``d_ff = model_dim``).
        dropout: dropout after the convolution, on the attention weights, inside and after each sublayer.

    Shapes: ``x`` :math:`(N, F)`, ``batch`` :math:`(N)` -> :math:`(N, d)`.

    Example:
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> ModalityEncoder(12, 16)(torch.randn(5, 12), batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, in_channels: int, channels: int, layers: int = 2, heads: int = 4,
                 ffn_channels: int | None = None, dropout: float = 0.0):
        super().__init__()
        inner = ffn_channels or channels
        self.dropout = dropout
        self.conv = torch.nn.Linear(in_channels, channels, bias=False)      # Conv1d, kernel 1, no bias
        self.attention = torch.nn.ModuleList(DialogueAttention(channels, heads, dropout) for _ in range(layers))
        self.norm = torch.nn.ModuleList(torch.nn.LayerNorm(channels, eps=1e-6) for _ in range(layers - 1))  # l > 0
        self.ffn_norm = torch.nn.ModuleList(torch.nn.LayerNorm(channels, eps=1e-6) for _ in range(layers))
        self.ffn_in = torch.nn.ModuleList(torch.nn.Linear(channels, inner) for _ in range(layers))
        self.ffn_out = torch.nn.ModuleList(torch.nn.Linear(inner, channels) for _ in range(layers))

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        p, training = self.dropout, self.training
        h = dropout(self.conv(x), p, training)
        for layer, attention in enumerate(self.attention):
            if layer:
                h = self.norm[layer - 1](h)
            a = h + dropout(attention(h, h, batch), p, training)
            inner = dropout(F.gelu(self.ffn_in[layer](self.ffn_norm[layer](a))), p, training)
            h = a + dropout(self.ffn_out[layer](inner), p, training)
        return h
