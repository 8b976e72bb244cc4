"""MFCRE: contextual xLSTM-based multimodal fusion for emotion recognition in conversation.

Reference: Yupeng Qi, Mayire Ibrayim, Turdi Tohti, "Contextual xLSTM-Based Multimodal Fusion for
Conversational Emotion Recognition" (venue, year and DOI are not named in the text available).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.base import DROPOUT, DialogueModel, ModelConfig, PaperResult, Preset, Search, WIDTHS
from dialoggraph.models.feature_files import MULTIEMO_IEMOCAP, MULTIEMO_MELD
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import register
from dialoggraph.nn.fusion.modality_encoder import ModalityEncoder
from dialoggraph.nn.fusion.multi_attn import MultiAttn
from dialoggraph.nn.losses.soft_hgr import SoftHGRLoss
from dialoggraph.nn.losses.swfc import SampleWeightedFocalContrastiveLoss
from dialoggraph.nn.seq.dialogue_crn import DialogueCRN
from dialoggraph.nn.dropout import dropout


@dataclass
class MFCREConfig(ModelConfig):
    """MFCRE's hyper-parameters. The defaults are the authors' MELD script (github rhoqwomda/MFCRE,
    ``Train/TrainMultiEMO_MELD.sh`` over ``train.py``'s defaults): widths 256 (``channels``, the
    release's ``model_dim``) and 1024 (MultiAttn's feed-forward, its ``hidden_dim``), 4 heads,
    2 MultiAttn layers, dropout 0, SWFC tau 1.4 / alpha 1.2 / gamma 3, loss weights SWFC 0.3,
    Soft-HGR 0.3, cross-entropy 0.4, Adam lr 1e-4 with L2 1e-5. Preset ``iemocap`` is the authors'
    IEMOCAP script, ``paper`` sec. 4.2's text (dropout 0.1, mu1 0.4, mu2 0.3, tau 0.9, alpha 0.8,
    lr 1e-5). Not in the paper or the code (ours): ``turns`` 2 (the release passes no reasoning
    steps; DialogueCRN searched 0-4).

    Table 4 ablations: ``use_dialogue_crn=False`` (w/o DialogueCRN),
    ``simam_attention=False`` (w/o simAM attention), ``use_modality_encoder=False``
    (w/o Modality Encoder: a linear map to ``channels`` instead),
    ``fusion="concat"`` (MultiAttn -> concatenation), ``mu1=0`` (w/o SWFC),
    ``mu2=0`` (w/o Soft-HGR).
    """

    channels: int = 256
    """Width of DialogueCRN, the modality encoder and MultiAttn (the release's ``model_dim``)."""
    ffn_channels: int = 1024
    """MultiAttn's feed-forward width (the release's ``hidden_dim``)."""
    encoder_ffn_channels: int = 256
    """The modality encoder's feed-forward width (the release passes ``d_ff = model_dim``)."""
    heads: int = 4
    """Attention heads of the modality encoder and MultiAttn."""
    turns: int = 2
    """Reasoning turns of each DialogueCRN level (ours: the release passes none)."""
    reasoning_cell: Literal["vil", "s", "m"] = "vil"
    """The reasoning cell: the ViL block (the release), an sLSTM or an mLSTM cell."""
    encoder_layers: int = 2
    """Transformer layers of each modality encoder (2 in the release)."""
    multiattn_layers: int = 2
    """Stacked MultiAttn layers (2 on MELD, 6 on IEMOCAP)."""
    classifier_hidden: int = 512
    """Hidden width of the MLP classifier (the release: 2 x model_dim on MELD, model_dim on IEMOCAP)."""
    dropout: float = 0.0
    """Dropout of DialogueCRN, the modality encoder, MultiAttn and the classifier's logits."""
    use_dialogue_crn: bool = True
    """Use DialogueCRN's context reasoning (False: Table 4's w/o DialogueCRN)."""
    simam_attention: bool = True
    """SimAM on the reasoning queries (False: Table 4's w/o simAM attention)."""
    use_modality_encoder: bool = True
    """Use the modality encoder (eq. 4; False: a linear map)."""
    fusion: Literal["multiattn", "concat"] = "multiattn"
    """Fusion: MultiAttn (sec. 3.4) or concatenation (Table 4's ablation)."""
    mu1: float = 0.3
    """Weight of the SWFC loss (eq. 15); mu1 + mu2 < 1."""
    mu2: float = 0.3
    """Weight of the Soft-HGR loss (eq. 15)."""
    swfc_temperature: float = 1.4
    """SWFC's temperature tau (eq. 11)."""
    swfc_alpha: float = 1.2
    """SWFC's sample-weight exponent alpha (eq. 12)."""
    swfc_gamma: float = 3.0
    """SWFC's focal exponent gamma (eq. 11)."""
    swfc_normalize: bool = True
    """L2-normalise z before SWFC (the authors' code)."""
    swfc_normalize_weights: bool = True
    """Make SWFC's class weights sum to 1 (the authors' code)."""
    swfc_counts: Literal["train", "batch"] = "train"
    """SWFC's class counts n_c: the training set's (the authors' code) or each batch's (eq. 12)."""
    soft_hgr: Literal["released", "paper"] = "released"
    """Soft-HGR as the authors' code computes it, or eq. 13 (:class:`~dialoggraph.nn.SoftHGRLoss`)."""

    renamed = {"swfc_tau": "swfc_temperature", "lr": None, "weight_decay": None}
    search = {"channels": WIDTHS, "ffn_channels": Search((256, 512, 1024, 2048)), "encoder_ffn_channels": WIDTHS,
              "classifier_hidden": Search((128, 256, 512, 1024)), "dropout": DROPOUT, "turns": Search((0, 1, 2, 3))}

    def check(self) -> None:
        super().check()
        if not (self.mu1 >= 0 and self.mu2 >= 0 and self.mu1 + self.mu2 < 1):
            self.fail(f"mu1, mu2 must be >= 0 with mu1 + mu2 < 1 (eq. 15), got {self.mu1}, {self.mu2}")
        if self.turns < 0:
            self.fail(f"turns must be >= 0, got {self.turns}")


PAPER = {"dropout": 0.1, "mu1": 0.4, "mu2": 0.3, "swfc_temperature": 0.9, "swfc_alpha": 0.8, "swfc_gamma": 3.0}
"""Sec. 4.2's text: dropout 0.1, mu1 0.4, mu2 0.3, SWFC tau 0.9 / alpha 0.8 / gamma 3."""
PAPER_TRAIN = {"lr": 1e-5, "weight_decay": 1e-5, "epochs": 200, "scheduler": "step", "lr_step_epochs": 10,
               "lr_gamma": 0.95}
"""Sec. 4.2's schedule: Adam lr 1e-5, L2 1e-5, 200 epochs, lr x 0.95 every 10 epochs."""
IEMOCAP = {"multiattn_layers": 6, "classifier_hidden": 256, "mu1": 0.4, "mu2": 0.4, "swfc_temperature": 0.9,
           "swfc_alpha": 1.1, "swfc_gamma": 2.4}
"""The authors' IEMOCAP script: 6 MultiAttn layers, MLP hidden model_dim, SWFC 0.4 / Soft-HGR 0.4 / CE 0.2,
alpha 1.1, gamma 2.4 (tau: ``train.py``'s 0.9)."""


@register("mfcre")
class MFCRE(DialogueModel):
    r"""MFCRE on any non-empty subset of text / audio / visual, as the authors' code computes it
    (github rhoqwomda/MFCRE, ``Model/model.py``), with the readings its modules state where the
    released code cannot run as published.

    Per modality :math:`m`: a linear map to ``channels``, :class:`DialogueCRN`
    (eqs. 1-3), :class:`ModalityEncoder` (eq. 4); :class:`MultiAttn` (sec. 3.4)
    fuses them into :math:`\mathbf{f}^t, \mathbf{f}^a, \mathbf{f}^v`; then

    .. math::
        \mathbf{z}_i = \mathbf{W}^z [\mathbf{f}_i^t; \mathbf{f}_i^a; \mathbf{f}_i^v] + \mathbf{b}_z
            \ \text{(eqs. 6-7)},\qquad
        \mathrm{logits}_i = \mathrm{Dropout}\big(\mathbf{W}^{smax} \max(0, \mathbf{W}^l \mathbf{z}_i
            + \mathbf{b}_l) + \mathbf{b}_{smax}\big) \ \text{(eqs. 8-9)}

    with :math:`\mathbf{z}` as wide as ``channels`` (the release's ``fc``) and
    the dropout on the logits (its ``MLP``). Training loss, eq. 15:
    :math:`\mu_1 L_{SWFC}(\mathbf{z}) + \mu_2 L_{Soft-HGR}(\mathbf{f}^t,
    \mathbf{f}^a, \mathbf{f}^v) + (1 - \mu_1 - \mu_2) L_{CE}` over the
    batch's :math:`N` utterances, as ``train.py`` weights the three losses, with
    its forms of both: SWFC's class weights from the training set's label counts
    (counted before the first epoch, :meth:`fit_outright`) and its Soft-HGR
    (``soft_hgr="released"``; ``"paper"``: eq. 13, divided by :math:`N`). The trainer's cross-entropy is
    weighted by ``ModelOutput.ce_weight``; :math:`\lambda \lVert\theta\rVert^2`
    is the optimiser's weight decay. With one modality there is no Soft-HGR term
    and the cross-entropy weighs :math:`1 - \mu_1`.

    The release pads every batch of dialogues to one length and its MultiAttn
    attends to the padding too; here every attention stays within its
    dialogue, so a prediction does not depend on the other dialogues of its
    batch.

    Args:
        in_dims: feature width of each modality, e.g. ``{"text": 384}`` (a dataset's
            ``meta["feature_dims"]``).
        num_classes: number of emotion classes :math:`C`.
        config: the hyper-parameters (:class:`MFCREConfig`; default: its defaults).

    Shapes:
        - **input:** a batch of dialogues (``HeteroData``) with utterance features
          ``x_<modality>`` :math:`(N, d_m)` and the graph :meth:`required_transform` builds
        - **output:** a :class:`~dialoggraph.models.ModelOutput` with logits :math:`(N, C)`; the SWFC and Soft-HGR losses in ``aux_losses``

    Example:
        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> config = MFCREConfig(channels=32, ffn_channels=64, encoder_ffn_channels=32, classifier_hidden=32)
        >>> data = SyntheticDialogues(4, pre_transform=MFCRE.required_transform(config))
        >>> model = MFCRE(data.meta["feature_dims"], data.num_classes, config)
        >>> batch = Batch.from_data_list(list(data))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    Config = MFCREConfig
    optimizer = {"lr": 1e-4, "weight_decay": 1e-5}        # train.py's defaults
    presets = {
        "paper": Preset("sec. 4.2's MELD setting (dropout 0.1, mu1 0.4, mu2 0.3, SWFC 0.9 / 0.8 / 3, lr 1e-5, "
                        "L2 1e-5, batch 100, 200 epochs, lr x 0.95 every 10 epochs)", PAPER,
                        {**PAPER_TRAIN, "batch_size": 100}),
        "meld": Preset("the authors' MELD script (batch 100, 600 epochs; lr 1e-4, L2 1e-5)", {},
                       {"lr": 1e-4, "weight_decay": 1e-5, "batch_size": 100, "epochs": 600},
                       PaperResult(69.78, 69.16, "Table 3"), MULTIEMO_MELD),
        "iemocap": Preset("the authors' IEMOCAP script: 6 MultiAttn layers, SWFC 0.4 / Soft-HGR 0.4 / CE 0.2 "
                          "(batch 64, 100 epochs; lr 1e-4, L2 1e-5)", IEMOCAP,
                          {"lr": 1e-4, "weight_decay": 1e-5, "batch_size": 64, "epochs": 100},
                          PaperResult(75.21, 80.59, "Table 2"), MULTIEMO_IEMOCAP),
    }

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: MFCREConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        config = self.config
        d = config.channels
        self.project = torch.nn.ModuleDict({m: torch.nn.Linear(in_dims[m], d) for m in self.modalities})
        self.crn = torch.nn.ModuleDict({m: DialogueCRN(d, d, config.turns, config.reasoning_cell,
                                                       config.simam_attention, config.dropout)
                                        for m in self.modalities}) if config.use_dialogue_crn else None
        if config.use_modality_encoder:
            self.encoder = torch.nn.ModuleDict({m: ModalityEncoder(d, d, config.encoder_layers, config.heads,
                                                                   config.encoder_ffn_channels, config.dropout)
                                                for m in self.modalities})
        else:
            self.encoder = torch.nn.ModuleDict({m: torch.nn.Linear(d, d) for m in self.modalities})
        self.multi_attn = MultiAttn(d, self.modalities, config.multiattn_layers, config.heads, config.dropout,
                                    config.ffn_channels) if config.fusion == "multiattn" else None
        self.fc = torch.nn.Linear(len(self.modalities) * d, d)                           # eqs. 6-7
        self.hidden = torch.nn.Linear(d, config.classifier_hidden)                       # eq. 8
        self.out = torch.nn.Linear(config.classifier_hidden, num_classes)                # eq. 9
        self.swfc = SampleWeightedFocalContrastiveLoss(config.swfc_temperature, config.swfc_alpha, config.swfc_gamma,
                                                       config.swfc_normalize, config.swfc_normalize_weights,
                                                       num_classes)
        self.soft_hgr = SoftHGRLoss(config.soft_hgr)

    def fit_outright(self, train_set, val_set) -> None:
        """Count the training set's labels for SWFC's class weights (``swfc_counts="train"``); then
        the trainer runs its epochs."""
        if self.config.swfc_counts == "train" and self.config.mu1 > 0:
            y = torch.cat([data[NODE].y for data in train_set])
            self.swfc.set_class_counts(torch.bincount(y[y >= 0], minlength=self.num_classes).float())
        return None

    def forward(self, batch: HeteroData) -> ModelOutput:
        store, config = batch[NODE], self.config
        node_batch = store.get("batch")
        features = {m: self.project[m](self.input_features(batch, m)) for m in self.modalities}
        if self.crn is not None:
            features = {m: self.crn[m](x, node_batch) for m, x in features.items()}               # eqs. 1-3
        if config.use_modality_encoder:
            features = {m: self.encoder[m](x, node_batch) for m, x in features.items()}           # eq. 4
        else:
            features = {m: self.encoder[m](x) for m, x in features.items()}
        if self.multi_attn is not None:
            features = self.multi_attn(features, node_batch)
        z = self.fc(torch.cat([features[m] for m in self.modalities], dim=-1))                   # eqs. 6-7
        logits = dropout(self.out(F.relu(self.hidden(z))), config.dropout, self.training)      # eqs. 8-9
        aux = {}
        mu2 = config.mu2 if len(self.modalities) > 1 else 0.0      # Soft-HGR needs two modalities
        if self.training:
            if config.mu1 > 0:
                aux["swfc"] = config.mu1 * self.swfc(z, store.y)
            if mu2 > 0:
                hgr = self.soft_hgr(features)             # the released form divides by N itself
                aux["soft_hgr"] = mu2 * (hgr if config.soft_hgr == "released" else hgr / z.size(0))
        return ModelOutput(logits, aux, ce_weight=1.0 - config.mu1 - mu2)
