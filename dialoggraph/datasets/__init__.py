"""Dialogue datasets, each yielding HeteroData dialogues in dialoggraph's schema."""
from dialoggraph.datasets.base import SPLITS, DialogueDataset
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.datasets.folder import DialogueFolder, export_folder
from dialoggraph.datasets.feature_pickle import IEMOCAP_LABELS, MELD_LABELS, FeaturePickle
from dialoggraph.datasets.meld import MELD
from dialoggraph.datasets.synthetic import SyntheticDialogues

__all__ = ["SPLITS", "DialogueDataset", "DialogueFolder", "export_folder", "MELD", "FeaturePickle",
           "IEMOCAP_LABELS", "MELD_LABELS", "SyntheticDialogues",
           "DatasetConfig", "load_dataset"]
