"""Modality fusion and balancing blocks."""
from dialoggraph.nn.fusion.cross_modal_guided_gate import CrossModalGuidedGate, GuidedBimodalFusion
from dialoggraph.nn.fusion.feature_gate import FeatureGate
from dialoggraph.nn.fusion.gated_cross_modal_encoder import GatedCrossModalEncoder
from dialoggraph.nn.fusion.gated_modality_fusion import GatedClassifier, GatedModalityFusion
from dialoggraph.nn.fusion.variational_distillation import VariationalDistillationFusion, gaussian_kl
from dialoggraph.nn.fusion.language_focused_transformer import LanguageFocusedTransformer
from dialoggraph.nn.fusion.multi_attn import MultiAttn
from dialoggraph.nn.fusion.modality_encoder import ModalityEncoder
from dialoggraph.nn.fusion.modality_dropout import (AdaptiveModalityDropout, ExpectationScale,
                                                    dropout_probabilities, modality_performance)

__all__ = ["LanguageFocusedTransformer", "MultiAttn", "ModalityEncoder", "VariationalDistillationFusion",
           "gaussian_kl", "CrossModalGuidedGate", "GuidedBimodalFusion", "FeatureGate",
           "GatedCrossModalEncoder", "GatedModalityFusion", "GatedClassifier", "AdaptiveModalityDropout",
           "ExpectationScale", "dropout_probabilities", "modality_performance"]
