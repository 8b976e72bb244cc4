"""Auxiliary objectives."""
from dialoggraph.nn.losses.contrastive import CrossModalContrastiveLoss, SupervisedContrastiveLoss
from dialoggraph.nn.losses.distillation import CrossModalDistillationLoss
from dialoggraph.nn.losses.soft_hgr import SoftHGRLoss
from dialoggraph.nn.losses.swfc import SampleWeightedFocalContrastiveLoss
from dialoggraph.nn.losses.emotion_transfer import GatedEmotionTransfer, transfer_labels

__all__ = ["SoftHGRLoss", "SampleWeightedFocalContrastiveLoss", "CrossModalContrastiveLoss",
           "SupervisedContrastiveLoss", "CrossModalDistillationLoss", "GatedEmotionTransfer", "transfer_labels"]
