"""Dialogue datasets, each yielding HeteroData dialogues in dialoggraph's schema."""
from dialoggraph.datasets.base import SPLITS, DialogueDataset
from dialoggraph.datasets.factory import DATASETS, DatasetConfig, load_dataset, register_dataset
from dialoggraph.datasets.folder import DialogueFolder, export_folder
from dialoggraph.datasets.feature_pickle import IEMOCAP_LABELS, MELD_LABELS, FeaturePickle
from dialoggraph.datasets.iemocap import IEMOCAP, iemocap_transcript
from dialoggraph.datasets.meld import MELD, meld_transcript
from dialoggraph.datasets.synthetic import SyntheticDialogues

__all__ = ["SPLITS", "DialogueDataset", "DialogueFolder", "export_folder", "MELD", "meld_transcript", "IEMOCAP",
           "iemocap_transcript", "FeaturePickle",
           "IEMOCAP_LABELS", "MELD_LABELS", "SyntheticDialogues",
           "DatasetConfig", "load_dataset", "register_dataset", "DATASETS"]
