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
from dialoggraph.nn.seq import (XLSTM, DialogueAttention, DialogueCRNReasoning, DialogueGRU,
                                DialogueTransformerEncoder, DialogueTransformerLayer, GatedUnimodalEncoder,
                                MLSTMCell, SLSTMCell, XLSTMBlock, dialogue_statistics, memory_retrieval,
                                simam_energy_gate, sinusoidal_positions)

__all__ = [
    # graph layers
    "DiffRGATConv", "DiffRGATBlock", "DAGConv", "DAGSchedule",
    # node-feature transforms
    "DialogueGRU", "DialogueAttention", "DialogueTransformerLayer", "DialogueTransformerEncoder",
    "sinusoidal_positions", "GatedUnimodalEncoder", "XLSTM", "XLSTMBlock", "SLSTMCell", "MLSTMCell",
    "DialogueCRNReasoning", "memory_retrieval", "simam_energy_gate", "dialogue_statistics",
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
