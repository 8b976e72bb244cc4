"""Modality fusion and balancing blocks."""
from dialoggraph.nn.fusion.feature_gate import FeatureGate
from dialoggraph.nn.fusion.modality_dropout import (AdaptiveModalityDropout, ExpectationScale,
                                                    dropout_probabilities, modality_performance)

__all__ = ["FeatureGate", "AdaptiveModalityDropout", "ExpectationScale", "dropout_probabilities",
           "modality_performance"]
