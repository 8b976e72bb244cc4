"""MDGET-MER (Chen et al., 2026): multi-level dynamic gating and emotion transfer
(`../shared/papers/mdget-mer.md`)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import check_modalities, register
from dialoggraph.nn.fusion.gated_cross_modal_encoder import GatedCrossModalEncoder
from dialoggraph.nn.fusion.gated_modality_fusion import GatedClassifier, GatedModalityFusion
from dialoggraph.nn.losses.emotion_transfer import GatedEmotionTransfer
from dialoggraph.nn.seq.gated_unimodal_encoder import GatedUnimodalEncoder
from dialoggraph.transforms.speaker_window_graph import INTER, INTRA, SpeakerWindowGraph

GATES = ("gue", "cross", "feature", "fusion", "classifier", "transfer")
ALL_PAIRS_WINDOW = 10 ** 6


@dataclass
class MDGETMERConfig:
    """Hyper-parameters; defaults are Table 2's MELD row (batch 64, lr 2e-5, GUE dropout
    0.1, ACME dropout 0.3, 2 GUE layers, 3 ACME layers), 8 heads and L2 1e-5 (sec. 4.2).
    :meth:`iemocap` gives the IEMOCAP row. Not given in the paper (our choices):
    ``hidden`` 256, classifier hidden 256, ``transfer_weight`` (lambda) 0.5,
    ``tau`` 0.5, pairs = the speaker-window edges (window 5).

    Ablations (Table 6): ``use_gue=False``, ``use_acme=False``,
    ``use_eetm=False`` (also what "w/o transfer loss" amounts to here:
    ``transfer_weight=0`` trains the same model), and ``gates`` lists the gates
    kept (drop one for "w/o that gate", ``()`` for "w/o all gates").
    """

    hidden: int = 256
    gue_layers: int = 2
    acme_layers: int = 3
    gue_dropout: float = 0.1
    acme_dropout: float = 0.3
    heads: int = 8
    classifier_hidden: int = 256
    classifier_dropout: float = 0.1
    use_gue: bool = True
    use_acme: bool = True
    use_eetm: bool = True
    transfer_weight: float = 0.5
    tau: float = 0.5
    transfer_pairs: str = "window"        # "window" (speaker-window edges) or "all" (every pair of a dialogue)
    window: int = 5
    gate_l2: float = 1e-5
    gates: tuple[str, ...] = GATES
    modalities: tuple[str, ...] = ("text", "audio", "visual")
    lr: float = 2e-5
    weight_decay: float = 1e-5

    @classmethod
    def iemocap(cls, **overrides) -> "MDGETMERConfig":
        """Table 2's IEMOCAP row: lr 2.5e-5, GUE dropout 0.2, ACME dropout 0.4, 5 ACME layers (batch 32)."""
        return replace(cls(lr=2.5e-5, gue_dropout=0.2, acme_dropout=0.4, acme_layers=5), **overrides)


@register("mdget_mer")
class MDGETMER(torch.nn.Module):
    r"""MDGET-MER on any non-empty subset of text / audio / visual.

    Per modality, a projection to ``hidden``, then ``gue_layers`` gated
    uni-modal encoders shared by the modalities (eqs. 1-5,
    :class:`GatedUnimodalEncoder`), then ``acme_layers`` gated cross-modal
    encoders (eqs. 6-22, :class:`GatedCrossModalEncoder`), gated modality
    fusion (eqs. 23-25) and the gated classifier (eqs. 26-30). In training,
    the gated emotion transfer module (eqs. 32-39) runs the cross-modal stack a
    second time (the same parameters, fresh dropout: :math:`H'`), fuses both,
    and classifies for each dialogue-graph edge whether the emotion changes
    between its two utterances. Loss (eq. 40): cross-entropy (by the trainer)
    + ``transfer_weight`` x transfer loss + ``gate_l2`` x the squared norm of
    every gate's weights; the other weights' L2 is AdamW's weight decay, from
    which :meth:`no_weight_decay` takes the gate weights out (the trainer builds
    its parameter groups from it), so each weight is regularised once.
    """

    Config = MDGETMERConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: MDGETMERConfig | None = None):
        super().__init__()
        self.config = config = config or MDGETMERConfig()
        check_modalities("MDGET-MER", config.modalities, in_dims)
        unknown = [g for g in config.gates if g not in GATES]
        if unknown or config.transfer_pairs not in ("window", "all"):
            raise ValueError(f"gates must be a subset of {GATES} and transfer_pairs 'window' or 'all'")
        h, gates = config.hidden, set(config.gates)
        self.modalities = tuple(config.modalities)
        self.projection = torch.nn.ModuleDict({m: torch.nn.Linear(in_dims[m], h) for m in self.modalities})
        self.gue = torch.nn.ModuleList(GatedUnimodalEncoder(h, config.gue_dropout, gates="gue" in gates)
                                       for _ in range(config.gue_layers if config.use_gue else 0))
        self.acme = torch.nn.ModuleList(
            GatedCrossModalEncoder(h, self.modalities, config.heads, config.acme_dropout,
                                   cross_gates="cross" in gates, feature_gate="feature" in gates)
            for _ in range(config.acme_layers if config.use_acme else 0))
        self.fusion = GatedModalityFusion(h, len(self.modalities), gates="fusion" in gates)
        self.classifier = GatedClassifier((len(self.modalities) + 1) * h, config.classifier_hidden, num_classes,
                                          config.classifier_dropout, gate="classifier" in gates)
        self.transfer = GatedEmotionTransfer(h, config.classifier_hidden, config.classifier_dropout, config.tau,
                                             gate="transfer" in gates) if config.use_eetm else None

    @staticmethod
    def required_transform(config: MDGETMERConfig) -> SpeakerWindowGraph | None:
        """The edges the transfer module pairs utterances along (none without it)."""
        if not config.use_eetm:
            return None
        w = config.window if config.transfer_pairs == "window" else ALL_PAIRS_WINDOW
        return SpeakerWindowGraph(w, w)

    def _cross_modal(self, features: dict[str, torch.Tensor], batch) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.acme:
            features = layer(features, batch)
        return self.fusion([features[m] for m in self.modalities])

    def gate_parameters(self) -> list[torch.nn.Parameter]:
        """The weights of every gate (the :math:`W_g` of eqs. 31 and 40)."""
        layers = [self.fusion.gate, self.classifier.gate] + ([self.transfer.gate] if self.transfer else [])
        for gue in self.gue:
            layers += [gue.gate1, gue.gate2]
        for acme in self.acme:
            layers += list(acme.gate_text_from.values()) + list(acme.gate_from_text.values()) + \
                list(acme.feature_gate.values())
        return [layer.weight for layer in layers]

    def no_weight_decay(self) -> list[torch.nn.Parameter]:
        """Parameters the optimizer must not decay: the gate weights, regularised by eq. 40's L2."""
        return self.gate_parameters() if self.config.gate_l2 > 0 else []

    def forward(self, batch: HeteroData) -> ModelOutput:
        store = batch[NODE]
        node_batch = store.get("batch")
        features = {}
        for m in self.modalities:
            x = self.projection[m](store[f"x_{m}"])
            for layer in self.gue:                                   # shared across modalities
                x = layer(x, node_batch)
            features[m] = x
        fused, weights = self._cross_modal(features, node_batch)
        logits = self.classifier(fused)
        aux = {}
        if self.training and self.transfer is not None and self.config.transfer_weight > 0:
            if INTRA not in batch.edge_types:
                raise ValueError("MDGET-MER's transfer module needs the dialogue edges: build the dataset with "
                                 f"pre_transform={self.required_transform(self.config)!r}")
            pairs = torch.cat([batch[INTRA].edge_index, batch[INTER].edge_index], dim=1)
            pairs = pairs[:, pairs[0] != pairs[1]]
            h = fused[:, -self.config.hidden:]                        # H_gate of the first pass
            h_prime = self._cross_modal(features, node_batch)[0][:, -self.config.hidden:]   # eq. 33
            loss, _, _ = self.transfer(h, h_prime, pairs, store.y)
            aux["transfer"] = self.config.transfer_weight * loss
        if self.training and self.config.gate_l2 > 0:
            aux["gate_l2"] = self.config.gate_l2 * sum((w ** 2).sum() for w in self.gate_parameters())
        return ModelOutput(logits, aux, attention={"fusion_gates": weights})
