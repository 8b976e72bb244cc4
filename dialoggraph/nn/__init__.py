"""Reusable blocks, PyG style: every public layer is importable from ``dialoggraph.nn``.

Graph layers (``conv``), node-feature transforms that read a dialogue as a sequence
(``seq``), modality fusion and balancing (``fusion``) and auxiliary objectives (``losses``).
"""
from dialoggraph.nn.conv import DAGConv, DAGSchedule, DiffRGATBlock, DiffRGATConv
from dialoggraph.nn.dropout import Dropout
from dialoggraph.nn.fusion import (AdaptiveModalityDropout, CrossModalGuidedGate, ExpectationScale, FeatureGate,
                                   GatedClassifier, GatedCrossModalEncoder, GatedModalityFusion, GuidedBimodalFusion,
                                   LanguageFocusedTransformer, ModalityEncoder, MultiAttn,
                                   VariationalDistillationFusion, dropout_probabilities, gaussian_kl,
                                   modality_performance)
from dialoggraph.nn.losses import (CrossModalContrastiveLoss, CrossModalDistillationLoss, GatedEmotionTransfer,
                                   SampleWeightedFocalContrastiveLoss, SoftHGRLoss, SupervisedContrastiveLoss,
                                   transfer_labels)
from dialoggraph.nn.seq import (XLSTM, DialogueAttention, DialogueCRN, DialogueGRU, DialogueTransformerEncoder,
                                DialogueTransformerLayer, GatedUnimodalEncoder, MLSTMCell, ReasonModule, SLSTMCell,
                                ViLBlock, XLSTMBlock, memory_retrieval, parallel_mlstm, simam, sinusoidal_positions)

__all__ = [
    # graph layers
    "DiffRGATConv", "DiffRGATBlock", "DAGConv", "DAGSchedule",
    # node-feature transforms
    "DialogueGRU", "DialogueAttention", "DialogueTransformerLayer", "DialogueTransformerEncoder",
    "sinusoidal_positions", "GatedUnimodalEncoder", "XLSTM", "XLSTMBlock", "SLSTMCell", "MLSTMCell",
    "ViLBlock", "parallel_mlstm", "DialogueCRN", "ReasonModule", "memory_retrieval", "simam",
    # fusion
    "FeatureGate", "AdaptiveModalityDropout", "ExpectationScale", "dropout_probabilities", "modality_performance",
    "GatedCrossModalEncoder", "GatedModalityFusion", "GatedClassifier", "CrossModalGuidedGate",
    "GuidedBimodalFusion", "LanguageFocusedTransformer", "VariationalDistillationFusion", "gaussian_kl",
    "ModalityEncoder", "MultiAttn",
    # training helpers
    "Dropout",
    # losses
    "SoftHGRLoss", "SampleWeightedFocalContrastiveLoss", "CrossModalContrastiveLoss", "SupervisedContrastiveLoss",
    "CrossModalDistillationLoss", "GatedEmotionTransfer", "transfer_labels",
]
