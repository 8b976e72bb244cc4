"""MDGET-MER's gated attention-based cross-modal encoder (Gated ACME, eqs. 6-22)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.nn.seq.dialogue_attention import DialogueAttention
from dialoggraph.nn.seq.gated_unimodal_encoder import feed_forward
from dialoggraph.nn.dropout import dropout

TEXT = "text"


class GatedCrossModalEncoder(torch.nn.Module):
    r"""One Gated ACME layer over the modalities of a batch (MDGET-MER eqs. 6-22); stackable.

    1. Self-attention per modality (eqs. 6-7):
       :math:`X_{sr}^m = \mathrm{LN}(X^m + \mathrm{dropout}(\mathrm{MHA}(X^m, X^m, X^m)))`.
    2. Text gathers from visual and audio, each cross-attention scaled by a gate
       (eqs. 8-13):

       .. math::
           G_V = \sigma(W [X_{sr}^T; X_{sr}^V] + b),\ 
           X_c^{T \leftarrow V} = \mathrm{dropout}(G_V \odot \mathrm{MHA}(X_{sr}^T, X_{sr}^V, X_{sr}^V)),\ 
           X_c^T = \mathrm{GELU}(FC([X_c^{T \leftarrow V}; X_c^{T \leftarrow A}])),\ 
           X_{cr}^T = \mathrm{LN}(X^T + X_{sr}^T + X_c^T)

       and visual / audio gather from text likewise (eqs. 14-19):
       :math:`X_{cr}^V = \mathrm{LN}(X^V + X_{sr}^V + \mathrm{dropout}(G'_V \odot \mathrm{MHA}(X_{sr}^V, X_{sr}^T, X_{sr}^T)))`.
    3. A feature-selection gate before the feed-forward (eqs. 20-22):
       :math:`X_{fr}^m = \mathrm{LN}(X^m + X_{cr}^m + FF(\sigma(W_F X_{cr}^m + b_F) \odot X_{cr}^m))`.

    All attention runs within each dialogue (padded internally, padding
    masked). Any non-empty subset of modalities works: without text the
    cross-modal step is skipped (the design is text-centred); text with one
    other modality uses only that pair. ``cross_gates=False`` /
    ``feature_gate=False`` set those gates to 1 (the ablations).

    Args:
        channels: feature size (the same for every modality).
        modalities: the modality names it will receive.
        heads: attention heads (paper: 8).
        dropout: dropout of attention outputs and the feed-forward.

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`; ``batch`` :math:`(N)` (optional)
        - **output:** modality -> :math:`(N, d)`; with ``return_gates`` also the gates by name
          (``"feature:text"``, ...), each :math:`(N, d)`

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> features = {m: torch.randn(5, 16) for m in ("text", "audio", "visual")}
        >>> out = GatedCrossModalEncoder(16, ("text", "audio", "visual"), heads=4)(features, batch)
        >>> out["text"].shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, modalities: tuple[str, ...], heads: int = 8, dropout: float = 0.3,
                 cross_gates: bool = True, feature_gate: bool = True):
        super().__init__()
        self.modalities = tuple(modalities)
        others = [m for m in self.modalities if m != TEXT]
        self.has_text = TEXT in self.modalities
        self.self_attention = torch.nn.ModuleDict({m: DialogueAttention(channels, heads, dropout)
                                                   for m in self.modalities})
        self.self_norm = torch.nn.ModuleDict({m: torch.nn.LayerNorm(channels) for m in self.modalities})
        cross = others if self.has_text else []
        self.text_from = torch.nn.ModuleDict({m: DialogueAttention(channels, heads, dropout) for m in cross})
        self.from_text = torch.nn.ModuleDict({m: DialogueAttention(channels, heads, dropout) for m in cross})
        self.gate_text_from = torch.nn.ModuleDict({m: torch.nn.Linear(2 * channels, channels) for m in cross})
        self.gate_from_text = torch.nn.ModuleDict({m: torch.nn.Linear(2 * channels, channels) for m in cross})
        self.text_fc = torch.nn.Linear(len(cross) * channels, channels) if cross else None
        self.cross_norm = torch.nn.ModuleDict({m: torch.nn.LayerNorm(channels) for m in self.modalities})
        self.feature_gate = torch.nn.ModuleDict({m: torch.nn.Linear(channels, channels) for m in self.modalities})
        self.ff = torch.nn.ModuleDict({m: feed_forward(channels, dropout) for m in self.modalities})
        self.out_norm = torch.nn.ModuleDict({m: torch.nn.LayerNorm(channels) for m in self.modalities})
        self.dropout = dropout
        self.use_cross_gates = cross_gates
        self.use_feature_gate = feature_gate

    def _gate(self, layer: torch.nn.Linear, inputs: list[Tensor], enabled: bool) -> Tensor:
        if not enabled:
            return torch.ones_like(inputs[0])
        return torch.sigmoid(layer(torch.cat(inputs, dim=-1)))

    def forward(self, features: dict[str, Tensor], batch: Tensor | None = None,
                return_gates: bool = False):
        drop = lambda t: dropout(t, self.dropout, self.training)  # noqa: E731
        sr = {m: self.self_norm[m](x + drop(self.self_attention[m](x, x, batch)))          # eqs. 6-7
              for m, x in features.items()}
        gates: dict[str, Tensor] = {}
        cr = {}
        if self.has_text and self.text_from:
            t = sr[TEXT]
            gathered = []
            for m in self.text_from:                                                        # eqs. 8-11
                gates[f"text<-{m}"] = g = self._gate(self.gate_text_from[m], [t, sr[m]], self.use_cross_gates)
                gathered.append(drop(g * self.text_from[m](t, sr[m], batch)))
            x_c = F.gelu(self.text_fc(torch.cat(gathered, dim=-1)))                          # eq. 12
            cr[TEXT] = self.cross_norm[TEXT](features[TEXT] + t + x_c)                      # eq. 13
            for m in self.from_text:                                                        # eqs. 14-19
                gates[f"{m}<-text"] = g = self._gate(self.gate_from_text[m], [sr[m], t], self.use_cross_gates)
                cr[m] = self.cross_norm[m](features[m] + sr[m] + drop(g * self.from_text[m](sr[m], t, batch)))
        for m in features:
            if m not in cr:  # no cross-modal partner
                cr[m] = self.cross_norm[m](features[m] + sr[m])
        out = {}
        for m, x_cr in cr.items():
            gates[f"feature:{m}"] = g = self._gate(self.feature_gate[m], [x_cr], self.use_feature_gate)  # eq. 20
            out[m] = self.out_norm[m](features[m] + x_cr + self.ff[m](g * x_cr))           # eqs. 21-22
        return (out, gates) if return_gates else out
