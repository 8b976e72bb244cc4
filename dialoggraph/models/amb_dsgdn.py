"""AMB-DSGDN (Wang et al., 2026): dynamic semantic graph differential network with
adaptive modal balancing (`../shared/papers/amb-dsgdn.md`)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.nn import GATConv, GCNConv

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import check_modalities, register
from dialoggraph.nn.conv.diff_rgat_block import DiffRGATBlock
from dialoggraph.nn.fusion.feature_gate import FeatureGate
from dialoggraph.nn.fusion.modality_dropout import METRICS, RULES, AdaptiveModalityDropout
from dialoggraph.nn.seq.transformer_encoder import DialogueTransformerEncoder
from dialoggraph.transforms.speaker_window_graph import INTER, INTRA, SpeakerWindowGraph

GRAPH_LAYERS = ("diffrgat", "gcn", "gat", "none")


@dataclass
class AMBDSGDNConfig:
    """Hyper-parameters. Paper defaults (sec. 5.4): hidden 512, lr 6.8e-5, weight decay 5e-5,
    batch 16, q_base 0.3, lambda 0.9, p_exe 0.5, warm-up about 60 of 100 epochs (sec. 6.2).
    The authors' run scripts (github wys-ljq/AMB-DSGDN) use window 6 on MELD and 20 on
    IEMOCAP (the paper says 5; :meth:`meld` and :meth:`iemocap` are the scripts' settings).
    ``heads`` (2) and ``graph_dropout`` (0.2) are the code's ``DiffRGCN`` defaults;
    ``transformer_heads`` (8) its ``n_head``; ``dropout`` is used in the Transformer
    encoders and the heads.

    ``aux_detach=False`` (default, the authors' code) makes eq. 33's term
    ``L_m * (L_m / 10)`` with the weight not detached (gradient ``2 L_m / 10``);
    ``True`` detaches the weight :math:`\alpha_m = L_m / 10` (gradient ``L_m / 10``).
    ``modality_metric`` / ``modality_rule``: see :class:`AdaptiveModalityDropout`.

    Ablations: ``graph_layer="gcn"`` is Table 5's "w/o DiffRGCN" (plain GCN on the
    subgraphs), ``"gat"`` a plain GAT, ``"none"`` Table 5's "w/o subgraphs and DiffRGCN";
    ``modality_dropout=False`` is Table 6's "w/o adaptive modality dropout".
    """

    hidden: int = 512
    heads: int = 2
    transformer_heads: int = 8
    num_speakers: int = 10
    window: int = 5
    dropout: float = 0.2
    graph_dropout: float = 0.2
    graph_layer: str = "diffrgat"
    feature_gates: bool = True
    modality_dropout: bool = True
    modality_metric: str = "weighted_f1"
    modality_rule: str = "released"
    q_base: float = 0.3
    dropout_scale: float = 0.9
    p_exe: float = 0.5
    warmup_epochs: int = 60
    aux_detach: bool = False
    modalities: tuple[str, ...] = ("text", "audio", "visual")
    lr: float = 6.8e-5
    weight_decay: float = 5e-5

    @classmethod
    def meld(cls, **overrides) -> "AMBDSGDNConfig":
        """The authors' ``run_meld.sh``: window 6, lr 5e-5, dropout 0.11, l2 7.5e-5, q_base 0.2,
        p_exe 0.2, no warm-up (batch 64, 20 epochs)."""
        return replace(cls(window=6, lr=5e-5, dropout=0.11, weight_decay=7.5e-5, q_base=0.2, p_exe=0.2,
                           warmup_epochs=0), **overrides)

    @classmethod
    def iemocap(cls, **overrides) -> "AMBDSGDNConfig":
        """The authors' ``run_iemocap.sh``: window 20, lr 6.8e-5, dropout 0.5, l2 5e-5, q_base 0.3,
        p_exe 0.5, 60 warm-up epochs (batch 16, 61 epochs)."""
        return replace(cls(window=20, lr=6.8e-5, dropout=0.5, weight_decay=5e-5, q_base=0.3, p_exe=0.5,
                           warmup_epochs=60), **overrides)


class _PlainGraphBlock(torch.nn.Module):
    """The ablation's graph block: a GCN or GAT layer, GELU, residual, LayerNorm."""

    def __init__(self, channels: int, kind: str, heads: int):
        super().__init__()
        self.conv = GCNConv(channels, channels, add_self_loops=False) if kind == "gcn" else \
            GATConv(channels, channels // heads, heads=heads, add_self_loops=False)
        self.norm = torch.nn.LayerNorm(channels)

    def forward(self, x: Tensor, edge_index: Tensor, edge_rel: Tensor | None = None) -> Tensor:
        return self.norm(x + F.gelu(self.conv(x, edge_index)))


@register("amb_dsgdn")
class AMBDSGDN(torch.nn.Module):
    r"""AMB-DSGDN on any non-empty subset of its modalities.

    Per modality :math:`m` (the pipeline of Fig. 2):

    1. projection to the hidden size, :math:`\mathbf{x}^m = \mathbf{W}_m \mathbf{f}^m + \mathbf{b}_m` (eq. 1);
    2. audio and visual: sinusoidal positions + speaker embeddings and a one-layer
       Transformer encoder per dialogue (eqs. 2-6; :class:`DialogueTransformerEncoder`);
    3. a :class:`DiffRGATBlock` on the inter-speaker subgraph, then one on the
       intra-speaker subgraph (sec. 4.4-4.5), the subgraphs shared by all modalities;
    4. audio and visual: a sigmoid feature gate :math:`\mathbf{x} \odot \sigma(\mathbf{W}\mathbf{x})`
       (not in the paper's text; the issue asks for it, ``feature_gates=False`` removes it);
    5. adaptive modality dropout across modalities (Alg. 2, eqs. 19-27;
       :class:`AdaptiveModalityDropout`), in training after ``warmup_epochs``;
       the per-modality performances :math:`p_m` come from each head's
       predictions on the batch before dropout (computed without gradient);
    6. a head per modality, ReLU -> Dropout -> Linear (eq. 28), logits summed (eq. 29).

    Loss: cross-entropy of the summed logits (eqs. 30-32, added by the trainer)
    plus :math:`\sum_m \alpha_m \mathcal{L}_m` with
    :math:`\alpha_m = \mathcal{L}_m / 10` (eq. 33), returned in ``aux_losses``;
    as in the authors' code :math:`\alpha_m` is not detached unless
    ``aux_detach=True``.

    The batch must carry the ``intra_speaker`` / ``inter_speaker`` stores
    (:attr:`pre_transform`), unless ``graph_layer="none"``.
    """

    Config = AMBDSGDNConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: AMBDSGDNConfig | None = None):
        super().__init__()
        self.config = config = config or AMBDSGDNConfig()
        self.modalities = check_modalities("AMB-DSGDN", config.modalities, in_dims)
        if config.graph_layer not in GRAPH_LAYERS:
            raise ValueError(f"graph_layer must be one of {', '.join(GRAPH_LAYERS)}, got {config.graph_layer!r}")
        for name, allowed in (("modality_metric", METRICS), ("modality_rule", RULES)):
            if getattr(config, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(config, name)!r}")
        self.num_classes = num_classes
        h = config.hidden
        sequential = [m for m in self.modalities if m != "text"]
        self.projection = torch.nn.ModuleDict({m: torch.nn.Linear(in_dims[m], h) for m in self.modalities})
        self.encoder = torch.nn.ModuleDict({m: DialogueTransformerEncoder(h, config.transformer_heads,
                                                                          config.num_speakers, config.dropout)
                                            for m in sequential})
        if config.graph_layer != "none":
            def block():
                if config.graph_layer == "diffrgat":
                    return DiffRGATBlock(h, heads=config.heads, dropout=config.graph_dropout)
                return _PlainGraphBlock(h, config.graph_layer, config.heads)
            self.inter = torch.nn.ModuleDict({m: block() for m in self.modalities})
            self.intra = torch.nn.ModuleDict({m: block() for m in self.modalities})
        self.gate = torch.nn.ModuleDict({m: FeatureGate(h) for m in sequential if config.feature_gates})
        self.modality_dropout = AdaptiveModalityDropout(config.q_base, config.dropout_scale, config.p_exe,
                                                        config.modality_metric, config.modality_rule) \
            if config.modality_dropout else None
        self.head = torch.nn.ModuleDict({m: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Dropout(config.dropout),
                                                                torch.nn.Linear(h, num_classes))
                                         for m in self.modalities})
        self.set_epoch(0)

    @staticmethod
    def required_transform(config: AMBDSGDNConfig) -> SpeakerWindowGraph | None:
        """The dataset ``pre_transform`` that builds the subgraphs this model reads."""
        return None if config.graph_layer == "none" else SpeakerWindowGraph(config.window, config.window)

    @property
    def pre_transform(self) -> SpeakerWindowGraph | None:
        return self.required_transform(self.config)

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer: modality dropout starts after the warm-up epochs."""
        if self.modality_dropout is not None:
            self.modality_dropout.active = epoch >= self.config.warmup_epochs

    def forward(self, batch: HeteroData) -> ModelOutput:
        store = batch[NODE]
        node_batch = store.get("batch")
        if self.config.graph_layer != "none" and (INTRA not in batch.edge_types or INTER not in batch.edge_types):
            raise ValueError("AMB-DSGDN needs the intra/inter-speaker subgraphs: build the dataset with "
                             f"pre_transform={self.pre_transform!r}")
        features = {}
        for m in self.modalities:
            x = self.projection[m](store[f"x_{m}"])                                       # eq. 1
            if m in self.encoder:
                x = self.encoder[m](x, node_batch, store.speaker)                          # eqs. 2-6
            if self.config.graph_layer != "none":
                x = self.inter[m](x, batch[INTER].edge_index, batch[INTER].edge_rel)       # sec. 4.5
                x = self.intra[m](x, batch[INTRA].edge_index, batch[INTRA].edge_rel)
            if m in self.gate:
                x = self.gate[m](x)
            features[m] = x
        if self.modality_dropout is not None:
            with torch.no_grad():
                predictions = {m: self.head[m](x).argmax(-1) for m, x in features.items()}
            features, _ = self.modality_dropout(features, predictions, store.y, node_batch, self.num_classes)
        modality_logits = {m: self.head[m](x) for m, x in features.items()}           # eq. 28
        logits = torch.stack(list(modality_logits.values())).sum(0)                   # eq. 29
        aux = {}
        labelled = store.y >= 0
        if self.training and bool(labelled.any()):
            for m, lm in modality_logits.items():
                loss_m = F.cross_entropy(lm[labelled], store.y[labelled])
                alpha = loss_m.detach() / 10.0 if self.config.aux_detach else loss_m / 10.0
                aux[f"{m}_loss"] = alpha * loss_m                                         # eq. 33
        return ModelOutput(logits, aux, modality_logits)
