"""MultiAttn: MultiEMO's bidirectional multi-head cross-attention fusion (as used by MFCRE, sec. 3.4)."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.nn.seq.dialogue_attention import DialogueAttention
from dialoggraph.nn.dropout import Dropout

# Which modalities each target attends to, in stage order (MultiEMO: visual <- text, then audio).
ORDER = {"text": ("audio", "visual"), "audio": ("text", "visual"), "visual": ("text", "audio")}


class _MultiAttnUnit(torch.nn.Module):
    """One MultiAttn-<target> unit: two cross-attention stages and a feed-forward, each residual + LayerNorm."""

    def __init__(self, channels: int, stages: int, heads: int, dropout: float, ffn_channels: int,
                 attention_dropout: float):
        super().__init__()
        self.attention = torch.nn.ModuleList(DialogueAttention(channels, heads, attention_dropout)
                                             for _ in range(stages))
        self.attention_norm = torch.nn.ModuleList(torch.nn.LayerNorm(channels) for _ in range(stages))
        self.ffn = torch.nn.Sequential(torch.nn.Linear(channels, ffn_channels), torch.nn.ReLU(),
                                       torch.nn.Linear(ffn_channels, channels), Dropout(dropout))
        self.ffn_norm = torch.nn.LayerNorm(channels)
        self.dropout = Dropout(dropout)

    def forward(self, query: Tensor, sources: list[Tensor], batch: Tensor | None) -> Tensor:
        h = query
        for attention, norm, source in zip(self.attention, self.attention_norm, sources):
            h = norm(h + self.dropout(attention(h, source, batch)))      # stages 1 and 2
        return self.ffn_norm(h + self.dropout(self.ffn(h)))              # stage 3


class MultiAttn(torch.nn.Module):
    r"""Stacked bidirectional multi-head cross-attention fusion (MultiEMO sec. 3.4; MFCRE sec. 3.4).

    For each target modality :math:`m` with the other two :math:`(a, b)` in
    :data:`ORDER` (e.g. visual <- text, then audio):

    .. math::
        \mathbf{h}_1 &= \mathrm{LN}(\mathbf{x}_m + \mathrm{MHA}(\mathbf{x}_m, \mathbf{x}_a, \mathbf{x}_a)) \\
        \mathbf{h}_2 &= \mathrm{LN}(\mathbf{h}_1 + \mathrm{MHA}(\mathbf{h}_1, \mathbf{x}_b, \mathbf{x}_b)) \\
        \mathbf{x}'_m &= \mathrm{LN}(\mathbf{h}_2 + \mathrm{FFN}_{ReLU}(\mathbf{h}_2)),\qquad
        \mathrm{FFN}_{ReLU}(\mathbf{h}) = \mathbf{W}_2 \max(0, \mathbf{W}_1 \mathbf{h} + \mathbf{b}_1) + \mathbf{b}_2

    Attention is "bidirectional": each utterance attends to every utterance of
    its dialogue, before and after. ``num_layers`` such layers are stacked
    (6 for IEMOCAP, 2 for MELD in MultiEMO): the output of each layer is the
    next layer's query, while the keys and values stay the *input* features
    :math:`\mathbf{x}_a, \mathbf{x}_b` of the other modalities in every layer
    (MFCRE sec. 3.4, "the output of each layer serves as the query input", and
    MultiEMO's ``MultiAttn.forward``, github TaoShi1998/MultiEMO-ACL2023). With
    two modalities only one cross stage runs; with one, only the feed-forward stage.

    Training-time details follow MultiEMO's release (``Model/MultiAttn.py``, which MFCRE's
    release reuses): the feed-forward is ``4 * channels`` wide (its ``hidden_dim`` 1024 at
    ``model_dim`` 256); there is no dropout on the attention weights; dropout acts on each
    stage's output before the residual sum (``AddNorm``), and the feed-forward's output is
    dropped once more inside the feed-forward (``Feedforward``), so in training the
    feed-forward branch passes two dropouts. Reading: attention is restricted to the
    utterance's own dialogue; the release attends over the padded batch without a mask.

    Shapes: ``features`` dict of :math:`(N, d)`, ``batch`` :math:`(N)` -> dict of :math:`(N, d)`.

    Args:
        channels: feature size :math:`d` of every modality.
        modalities: the modality names it will receive (one to three).
        num_layers: stacked MultiAttn layers.
        heads: attention heads of every stage.
        dropout: dropout on each stage's output (and inside the feed-forward).
        ffn_channels: hidden width of the feed-forward (default ``4 * channels``, MultiEMO's).
        attention_dropout: dropout on the attention weights (default 0, MultiEMO's).

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> fusion = MultiAttn(16, ("text", "audio", "visual"), heads=4)
        >>> out = fusion({m: torch.randn(5, 16) for m in ("text", "audio", "visual")}, batch)
        >>> sorted(out), out["text"].shape
        (['audio', 'text', 'visual'], torch.Size([5, 16]))
    """

    def __init__(self, channels: int, modalities: tuple[str, ...], num_layers: int = 2, heads: int = 8,
                 dropout: float = 0.1, ffn_channels: int | None = None, attention_dropout: float = 0.0):
        super().__init__()
        unknown = [m for m in modalities if m not in ORDER]
        if unknown or not modalities:
            raise ValueError(f"MultiAttn fuses a non-empty subset of {tuple(ORDER)}, got {modalities}")
        self.sources = {m: tuple(s for s in ORDER[m] if s in modalities) for m in modalities}
        self.layers = torch.nn.ModuleList(
            torch.nn.ModuleDict({m: _MultiAttnUnit(channels, len(self.sources[m]), heads, dropout,
                                                   ffn_channels or 4 * channels, attention_dropout)
                                 for m in modalities})
            for _ in range(num_layers))

    def forward(self, features: dict[str, Tensor], batch: Tensor | None = None) -> dict[str, Tensor]:
        queries = features
        for layer in self.layers:
            queries = {m: unit(queries[m], [features[s] for s in self.sources[m]], batch)
                       for m, unit in layer.items()}
        return queries
