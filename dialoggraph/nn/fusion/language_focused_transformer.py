"""LFVD's language-focused augmented transformer with the conversation-atmosphere token (eqs. 4-9)."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.data.padding import to_padded
from dialoggraph.nn.seq.dialogue_attention import DialogueTransformerLayer
from dialoggraph.nn.dropout import Dropout


class LanguageFocusedTransformer(torch.nn.Module):
    r"""LFVD's language-focused augmented transformer (eqs. 4-9 of Zhu & Jiang, "Towards robust
    multimodal emotion recognition in conversation with multi-modal transformer and variational
    distillation fusion", 2025).

    With the language modality :math:`l` (``dominant``) and each auxiliary
    modality :math:`a`, multi-head language-guided attention within each
    dialogue:

    .. math::
        \mathbf{X}^{a \to l} &= \mathrm{LN}(\mathrm{FFN}(\bar{\mathbf{X}}) + \bar{\mathbf{X}}),\quad
            \bar{\mathbf{X}} = \mathrm{LN}(\mathrm{MLA}(\mathbf{Q}_l, \mathbf{K}_a, \mathbf{V}_a) + \mathbf{X}^a)
            \qquad \text{(eq. 6)} \\
        \hat{\mathbf{X}}^l &= \text{the same with } (\mathbf{Q}_l, \mathbf{K}_l, \mathbf{V}_l) \text{ and } \mathbf{X}^l
            \qquad \text{(eq. 7)} \\
        \mathbf{X}^m &= \textstyle\sum_a \mathbf{X}^{a \to l} + \hat{\mathbf{X}}^l + \mathbf{X}^l
            \qquad \text{(eq. 8)}

    Then a learnable atmosphere vector :math:`\mathbf{t}` is prepended to each
    dialogue's :math:`\mathbf{X}^m`, attended with its utterances (self-attention,
    LN, FFN, LN; eq. 9), and its output :math:`\mathbf{t}'` -- one vector per
    dialogue -- is added to every modality's features of that dialogue:
    :math:`\mathbf{X}^\xi \leftarrow \mathbf{X}^\xi + \mathbf{t}'`.

    Returns ``(features, atmosphere [B, d])``. The dominant modality must be
    present; without auxiliary modalities eq. 8 keeps its language terms.

    ``atmosphere=False`` is LFVD Table 5's "w/o CEAR" as we read it: no token;
    the dominant modality's features become :math:`\mathbf{X}^m` (eq. 8, the
    language features enriched by the others), the rest pass unchanged, and
    the atmosphere returned is ``None``.

    Args:
        channels: feature size :math:`d` of every modality.
        modalities: the modality names it will receive.
        dominant: the language (dominant) modality :math:`l`.
        heads: attention heads.
        dropout: dropout in the attention and feed-forward layers.
        atmosphere: prepend the atmosphere token (False: the "w/o CEAR" reading above).

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`; ``batch`` :math:`(N)` (optional)
        - **output:** modality -> :math:`(N, d)`, and the atmosphere :math:`(B, d)` (or ``None``)

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> features = {m: torch.randn(5, 16) for m in ("text", "audio", "visual")}
        >>> out, atmosphere = LanguageFocusedTransformer(16, ("text", "audio", "visual"), heads=4)(features, batch)
        >>> out["text"].shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, modalities: tuple[str, ...], dominant: str = "text", heads: int = 8,
                 dropout: float = 0.1, atmosphere: bool = True):
        super().__init__()
        if dominant not in modalities:
            raise ValueError(f"dominant modality {dominant!r} is not among {modalities}")
        self.dominant = dominant
        self.guided = torch.nn.ModuleDict({m: DialogueTransformerLayer(channels, heads, dropout)
                                           for m in modalities if m != dominant})
        self.language = DialogueTransformerLayer(channels, heads, dropout)
        self.atmosphere = None
        if atmosphere:
            self.atmosphere_token = torch.nn.Parameter(torch.randn(channels) * 0.02)
            self.atmosphere = torch.nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)
            self.atmosphere_block = torch.nn.ModuleList([torch.nn.LayerNorm(channels), torch.nn.Sequential(
                torch.nn.Linear(channels, 2 * channels), torch.nn.ReLU(), Dropout(dropout),
                torch.nn.Linear(2 * channels, channels)), torch.nn.LayerNorm(channels)])

    def forward(self, features: dict[str, Tensor],
                batch: Tensor | None = None) -> tuple[dict[str, Tensor], Tensor | None]:
        x_l = features[self.dominant]
        mixed = x_l + self.language(x_l, x_l, batch)                                        # eqs. 7-8
        for m, block in self.guided.items():
            mixed = mixed + block(x_l, features[m], batch, residual=features[m])              # eq. 6
        if self.atmosphere is None:
            return {**features, self.dominant: mixed}, None
        padded, mask = to_padded(mixed, batch)                                                # [B, L, d]
        token = self.atmosphere_token.expand(padded.size(0), 1, -1)
        sequence = torch.cat([token, padded], dim=1)
        keep = torch.cat([mask.new_ones(mask.size(0), 1), mask], dim=1)
        attended, _ = self.atmosphere(sequence, sequence, sequence, key_padding_mask=~keep, need_weights=False)
        norm1, ffn, norm2 = self.atmosphere_block
        bar = norm1(attended + sequence)
        t = norm2(ffn(bar) + bar)[:, 0]                                                       # eq. 9: t'
        index = batch if batch is not None else torch.zeros(x_l.size(0), dtype=torch.long, device=x_l.device)
        return {m: x + t[index] for m, x in features.items()}, t
