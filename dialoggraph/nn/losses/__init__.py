"""Auxiliary objectives."""
from dialoggraph.nn.losses.emotion_transfer import GatedEmotionTransfer, transfer_labels

__all__ = ["GatedEmotionTransfer", "transfer_labels"]
