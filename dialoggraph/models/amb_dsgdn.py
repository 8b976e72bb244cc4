"""AMB-DSGDN: dynamic semantic graph differential network with adaptive modality balancing.

Reference: Yunsheng Wang, Yuntao Shou, Yilong Tan, Wei Ai, Tao Meng, Keqin Li, "AMB-DSGDN:
Adaptive Modality-Balanced Dynamic Semantic Graph Differential Network for Multimodal Emotion
Recognition", arXiv:2603.10043 [cs.MM], 2026; code: https://github.com/wys-ljq/AMB-DSGDN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData
from torch_geometric.nn import GATConv, GCNConv

from dialoggraph.data.dialogue import INTER, INTRA, NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.models.base import DROPOUT, DialogueModel, ModelConfig, PaperResult, Preset, WIDTHS, WINDOWS
from dialoggraph.models.feature_files import RTA_IEMOCAP, RTA_MELD
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import register
from dialoggraph.nn.conv.diff_rgat_block import DiffRGATBlock
from dialoggraph.nn.fusion.feature_gate import FeatureGate
from dialoggraph.nn.fusion.modality_dropout import AdaptiveModalityDropout
from dialoggraph.nn.seq.transformer_encoder import DialogueTransformerEncoder
from dialoggraph.transforms.speaker_window_graph import SpeakerWindowGraph
from dialoggraph.nn.dropout import Dropout

@dataclass
class AMBDSGDNConfig(ModelConfig):
    """AMB-DSGDN's hyper-parameters. The defaults are the paper's (sec. 5.4) except ``hidden``
    128 (paper 512) and ``dropout`` 0.4 (paper 0.2), with the optimizer's lr 1e-3 (paper 6.8e-5):
    dialoggraph's defaults, chosen on MELD's dev split and checked on held-out data
    (docs/defaults.md). Preset ``paper`` is sec. 5.4 exactly, ``meld`` /
    ``iemocap`` the authors' run scripts (github wys-ljq/AMB-DSGDN).

    Ablations: ``graph_layer="gcn"`` is Table 5's "w/o DiffRGCN" (plain GCN on the
    subgraphs), ``"gat"`` a plain GAT, ``"none"`` Table 5's "w/o subgraphs and DiffRGCN";
    ``modality_dropout=False`` is Table 6's "w/o adaptive modality dropout".
    """

    hidden: int = 128
    """Width d of every representation (sec. 5.4: 512)."""
    graph_heads: int = 2
    """Differential attention heads of each DiffRGAT block (the authors' ``DiffRGCN`` default)."""
    heads: int = 8
    """Attention heads of the audio / visual Transformer encoders (the code's ``n_head``)."""
    num_speakers: int = 10
    """Size of the speaker-embedding table of the Transformer encoders (dialogue-local ids)."""
    window: int = 5
    """Speaker-window size: each utterance receives from this many earlier and later ones
    (paper: 5; the authors' scripts: 6 on MELD, 20 on IEMOCAP)."""
    dropout: float = 0.4
    """Dropout in the Transformer encoders and before each classification head (sec. 5.4: 0.2)."""
    graph_dropout: float = 0.2
    """Dropout on the input of each DiffRGAT block (the code's ``DiffRGCN`` default)."""
    graph_layer: Literal["diffrgat", "gcn", "gat", "none"] = "diffrgat"
    """Graph block on the subgraphs: DiffRGAT (the paper), plain GCN or GAT (ablations), or none."""
    feature_gates: bool = True
    """Sigmoid feature gate x * sigmoid(W x) on audio and visual after the graph blocks."""
    modality_dropout: bool = True
    """Adaptive modality dropout across modalities (Alg. 2, eqs. 19-27) after the warm-up."""
    modality_metric: Literal["weighted_f1", "eq19"] = "weighted_f1"
    """Per-modality performance p_m: the batch's weighted F1 (the code) or eq. 19 as printed."""
    modality_rule: Literal["released", "eq24"] = "released"
    """Dropout-probability rule: the released code's or eq. 24 as printed."""
    q_base: float = 0.3
    """Base dropout probability q_base (eq. 22)."""
    dropout_scale: float = 0.9
    """Scale lambda of the dropout probabilities (eq. 23)."""
    p_exe: float = 0.5
    """Probability p_exe that modality dropout runs on a batch (Alg. 2)."""
    warmup_epochs: int = 60
    """Epochs before modality dropout starts (sec. 6.2: about 60 of 100)."""
    aux_detach: bool = False
    """Detach eq. 33's weight alpha_m = L_m / 10 (False: the authors' code, gradient 2 L_m / 10)."""

    renamed = {"heads": "graph_heads", "transformer_heads": "heads", "lr": None, "weight_decay": None}
    search = {"hidden": WIDTHS, "dropout": DROPOUT, "graph_dropout": DROPOUT, "window": WINDOWS}

PAPER = {"hidden": 512, "dropout": 0.2, "graph_dropout": 0.2, "window": 5}
"""The paper's values (sec. 5.4) of the fields whose defaults are dialoggraph's (preset ``paper``)."""


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
class AMBDSGDN(DialogueModel):
    r"""AMB-DSGDN on any non-empty subset of its modalities.

    Per modality :math:`m` (the pipeline of Fig. 2):

    1. projection to the hidden size, :math:`\mathbf{x}^m = \mathbf{W}_m \mathbf{f}^m + \mathbf{b}_m` (eq. 1);
    2. audio and visual: sinusoidal positions + speaker embeddings and a one-layer
       Transformer encoder per dialogue (eqs. 2-6; :class:`DialogueTransformerEncoder`); the two
       encoders share one speaker-embedding table, as the authors' ``speaker_embeddings``;
    3. a :class:`DiffRGATBlock` on the inter-speaker subgraph, then one on the
       intra-speaker subgraph (sec. 4.4-4.5), the subgraphs shared by all modalities;
    4. audio and visual: a sigmoid feature gate :math:`\mathbf{x} \odot \sigma(\mathbf{W}\mathbf{x})`
       (not in the paper's text: dialoggraph's addition, ``feature_gates=False`` removes it);
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

    Args:
        in_dims: feature width of each modality, e.g. ``{"text": 384}`` (a dataset's
            ``meta["feature_dims"]``).
        num_classes: number of emotion classes :math:`C`.
        config: the hyper-parameters (:class:`AMBDSGDNConfig`; default: its defaults).

    Shapes:
        - **input:** a batch of dialogues (``HeteroData``) with utterance features
          ``x_<modality>`` :math:`(N, d_m)` and the graph :meth:`required_transform` builds
        - **output:** a :class:`~dialoggraph.models.ModelOutput` with logits :math:`(N, C)`; ``modality_logits`` per modality and eq. 33's ``aux_losses``

    Example:
        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> config = AMBDSGDNConfig(hidden=32, heads=2, graph_heads=2)
        >>> data = SyntheticDialogues(4, pre_transform=AMBDSGDN.required_transform(config))
        >>> model = AMBDSGDN(data.meta["feature_dims"], data.num_classes, config)
        >>> batch = Batch.from_data_list(list(data))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    Config = AMBDSGDNConfig
    optimizer = {"lr": 1e-3, "weight_decay": 5e-5}        # sec. 5.4's lr is 6.8e-5 (preset paper)
    runs_without_modality = True
    presets = {
        "paper": Preset("the paper's setting (sec. 5.4: hidden 512, dropout 0.2, lr 6.8e-5, L2 5e-5)",
                        PAPER, {"lr": 6.8e-5, "weight_decay": 5e-5}),
        "meld": Preset("the authors' run_meld.sh (window 6, batch 64, 20 epochs)",
                       {**PAPER, "window": 6, "dropout": 0.11, "q_base": 0.2, "p_exe": 0.2, "warmup_epochs": 0},
                       {"lr": 5e-5, "weight_decay": 7.5e-5, "batch_size": 64, "epochs": 20},
                       PaperResult(66.18, 66.07, "Table 3"), RTA_MELD),
        "iemocap": Preset("the authors' run_iemocap.sh (window 20, batch 16, 61 epochs)",
                          {**PAPER, "window": 20, "dropout": 0.5, "q_base": 0.3, "p_exe": 0.5, "warmup_epochs": 60},
                          {"lr": 6.8e-5, "weight_decay": 5e-5, "batch_size": 16, "epochs": 61},
                          PaperResult(75.64, 76.09, "Table 2"), RTA_IEMOCAP),
    }

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: AMBDSGDNConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        config = self.config
        h = config.hidden
        sequential = [m for m in self.modalities if m != "text"]
        self.projection = torch.nn.ModuleDict({m: torch.nn.Linear(in_dims[m], h) for m in self.modalities})
        self.encoder = torch.nn.ModuleDict({m: DialogueTransformerEncoder(h, config.heads,
                                                                          config.num_speakers, config.dropout)
                                            for m in sequential})
        for m in sequential[1:]:            # one speaker table for both encoders (the authors' speaker_embeddings)
            self.encoder[m].speaker = self.encoder[sequential[0]].speaker
        if config.graph_layer != "none":
            def block():
                if config.graph_layer == "diffrgat":
                    return DiffRGATBlock(h, heads=config.graph_heads, dropout=config.graph_dropout)
                return _PlainGraphBlock(h, config.graph_layer, config.graph_heads)
            self.inter = torch.nn.ModuleDict({m: block() for m in self.modalities})
            self.intra = torch.nn.ModuleDict({m: block() for m in self.modalities})
        self.gate = torch.nn.ModuleDict({m: FeatureGate(h) for m in sequential if config.feature_gates})
        self.modality_dropout = AdaptiveModalityDropout(config.q_base, config.dropout_scale, config.p_exe,
                                                        config.modality_metric, config.modality_rule) \
            if config.modality_dropout else None
        self.head = torch.nn.ModuleDict({m: torch.nn.Sequential(torch.nn.ReLU(), Dropout(config.dropout),
                                                                torch.nn.Linear(h, num_classes))
                                         for m in self.modalities})
        self.set_epoch(0)

    @classmethod
    def required_transform(cls, config: AMBDSGDNConfig) -> SpeakerWindowGraph | None:
        """The dataset ``pre_transform`` that builds the subgraphs this model reads."""
        return None if config.graph_layer == "none" else SpeakerWindowGraph(config.window, config.window)

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer: modality dropout starts after the warm-up epochs."""
        if self.modality_dropout is not None:
            self.modality_dropout.active = epoch >= self.config.warmup_epochs

    def present(self, store) -> list[str]:
        """The model's modalities that ``store`` has features for: eq. 29 sums the heads of the
        modalities present, so a trained model runs without some of them (robustness analysis)."""
        present = [m for m in self.modalities if f"x_{m}" in store]
        if not present:
            raise DialogueValidationError(f"the batch has none of the model's modalities "
                                          f"({', '.join(self.modalities)})")
        return present

    def forward(self, batch: HeteroData, return_attention_weights: bool = False) -> ModelOutput:
        """The logits (eq. 29), per-modality logits and, in training, the eq. 33 losses; with
        ``return_attention_weights`` also each DiffRGAT block's attention in ``attention``
        (``"<modality> inter-speaker"`` / ``"intra-speaker"``: ``(edge_index, alpha)``)."""
        store = batch[NODE]
        node_batch = store.get("batch")
        features, attention = {}, {}
        for m in self.present(store):
            x = self.projection[m](self.input_features(batch, m))  # eq. 1
            if m in self.encoder:
                x = self.encoder[m](x, node_batch, store.speaker)                          # eqs. 2-6
            if self.config.graph_layer != "none":
                for kind, store_name in (("inter", INTER), ("intra", INTRA)):           # sec. 4.5
                    block, edges = getattr(self, kind)[m], batch[store_name]
                    if return_attention_weights and isinstance(block, DiffRGATBlock):
                        x, (edge_index, alpha) = block(x, edges.edge_index, edges.edge_rel, True)
                        attention[f"{m} {kind}-speaker"] = (edge_index, alpha[:, 0])
                    else:
                        x = block(x, edges.edge_index, edges.edge_rel)
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
        return ModelOutput(logits, aux, modality_logits, attention)
