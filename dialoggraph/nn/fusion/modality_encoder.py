"""MFCRE's modality encoder: Conv1d + positions, then intra- and inter-modal transformers (eqs. 4-5)."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.seq.dialogue_attention import DialogueTransformerLayer
from dialoggraph.nn.seq.transformer_encoder import sinusoidal_positions
from dialoggraph.nn.dropout import dropout


class ModalityEncoder(torch.nn.Module):
    r"""Map every modality into one shared space and let the modalities read each other (MFCRE sec. 3.3).

    Per modality :math:`m`, a 1-D convolution along each dialogue's utterances
    and sinusoidal position embeddings give :math:`\mathbf{H}_m \in \mathbb{R}^{N \times d}`
    (MulT's input stage, which MFCRE's encoder [9] follows:
    :math:`\mathbf{H}_m = \sqrt{d}\,\mathrm{Conv1d}(\mathbf{X}_m) + PE`). Then

    .. math::
        \mathbf{H}_{m \to m} &= \mathrm{Transformer}(\mathbf{H}_m, \mathbf{H}_m, \mathbf{H}_m)
            \qquad \text{(eq. 4)} \\
        \mathbf{H}_{n \to m} &= \mathrm{Transformer}(\mathbf{H}_m, \mathbf{H}_n, \mathbf{H}_n),
            \quad n \ne m \qquad \text{(eq. 5)} \\
        \mathbf{H}'_m &= \mathbf{W}_m [\mathbf{H}_{m \to m}; \mathbf{H}_{n_1 \to m}; \dots] + \mathbf{b}_m

    each ``Transformer`` a stack of ``layers`` :class:`DialogueTransformerLayer`
    s whose query is the previous layer's output; the intra-modal stack
    attends to itself, the inter-modal stacks keep :math:`\mathbf{H}_n` as keys
    and values (as MulT's cross-modal transformers do). The paper
    leaves how the :math:`n` augmented sequences are combined open; we
    concatenate them and project back to :math:`d` (our choice). Attention is
    within each dialogue; the convolution pads with zeros at both ends of each
    dialogue, so padding never changes a result. Any non-empty subset of
    modalities works (one modality: eq. 4 only).

    Args:
        in_dims: input size per modality (its keys are the modalities).
        channels: the shared size :math:`d`.
        layers: transformer layers per stack.
        heads: attention heads.
        dropout: attention / feed-forward / embedding dropout.
        kernel_size: odd Conv1d width (1, MulT's default, maps each utterance alone).

    Shapes: ``features`` dict of :math:`(N, F_m)`, ``batch`` :math:`(N)` -> dict of :math:`(N, d)`.

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> encoder = ModalityEncoder({"text": 32, "audio": 12}, 16)
        >>> out = encoder({"text": torch.randn(5, 32), "audio": torch.randn(5, 12)}, batch)
        >>> out["audio"].shape
        torch.Size([5, 16])
    """

    def __init__(self, in_dims: dict[str, int], channels: int, layers: int = 1, heads: int = 4,
                 dropout: float = 0.1, kernel_size: int = 1):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        if not in_dims:
            raise ValueError("ModalityEncoder needs at least one modality")
        self.modalities, self.channels, self.dropout = tuple(in_dims), channels, dropout
        self.conv = torch.nn.ModuleDict({m: torch.nn.Conv1d(d, channels, kernel_size, padding=kernel_size // 2,
                                                            bias=False) for m, d in in_dims.items()})

        def stack() -> torch.nn.ModuleList:
            return torch.nn.ModuleList(DialogueTransformerLayer(channels, heads, dropout) for _ in range(layers))

        self.transformers = torch.nn.ModuleDict({f"{n}_to_{m}": stack() for m in self.modalities
                                                 for n in self.modalities})
        k = len(self.modalities)
        self.combine = torch.nn.ModuleDict({m: torch.nn.Linear(k * channels, channels) for m in self.modalities})

    def embed(self, x: Tensor, modality: str, batch: Tensor | None) -> Tensor:
        """:math:`\\mathbf{H}_m`: Conv1d along each dialogue, scaled by :math:`\\sqrt{d}`, plus positions."""
        padded, mask = to_padded(x, batch)                                        # [B, L, F]
        h = self.conv[modality](padded.transpose(1, 2)).transpose(1, 2) * math.sqrt(self.channels)
        h = h + sinusoidal_positions(h.size(1), self.channels, x.device)
        return dropout(from_padded(h, mask), self.dropout, self.training)

    def forward(self, features: dict[str, Tensor], batch: Tensor | None = None) -> dict[str, Tensor]:
        H = {m: self.embed(features[m], m, batch) for m in self.modalities}
        out = {}
        for m in self.modalities:
            augmented = []
            for n in self.modalities:                                             # n = m: eq. 4; else eq. 5
                h = H[m]
                for layer in self.transformers[f"{n}_to_{m}"]:
                    h = layer(h, h if n == m else H[n], batch)
                augmented.append(h)
            out[m] = self.combine[m](torch.cat(augmented, dim=-1))
        return out
