"""Featurizers that turn raw text and timing into node features."""
from dialoggraph.features.text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from dialoggraph.features.timing import parse_timestamp, timing_features

__all__ = ["TfidfSVDFeaturizer", "SentenceTransformerFeaturizer", "timing_features", "parse_timestamp"]
