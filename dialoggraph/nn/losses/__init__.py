"""Auxiliary objectives."""
from dialoggraph.nn.losses.distillation import CrossModalDistillationLoss
from dialoggraph.nn.losses.emotion_transfer import GatedEmotionTransfer, transfer_labels

__all__ = ["CrossModalDistillationLoss", "GatedEmotionTransfer", "transfer_labels"]
