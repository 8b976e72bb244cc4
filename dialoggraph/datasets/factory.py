"""One dataset split from a :class:`DatasetConfig`: how the command line and config files name data.

Each dataset kind (``--dataset KIND``) is a loader registered with :func:`register_dataset`;
a dataset of your own is its class plus one registered loader:

.. code-block:: python

    from dialoggraph.datasets import register_dataset

    @register_dataset("calls", markers=("calls.json",))
    def load_calls(config, split, pre_transform, cache_dir):
        return CallCentreDialogues(config.root, split, pre_transform=pre_transform, cache_dir=cache_dir)

Then ``dialoggraph train --dataset calls --root DIR`` trains on it, and a root holding
``calls.json`` is recognised without ``--dataset``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Literal, NamedTuple

from dialoggraph.config import TypedConfig
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.feature_pickle import IEMOCAP_LABELS, MELD_LABELS, FeaturePickle
from dialoggraph.datasets.folder import DialogueFolder
from dialoggraph.datasets.iemocap import IEMOCAP
from dialoggraph.datasets.meld import MELD
from dialoggraph.datasets.synthetic import SyntheticDialogues

LABEL_SETS = {"iemocap": IEMOCAP_LABELS, "meld": MELD_LABELS}


class DatasetKind(NamedTuple):
    """A registered dataset kind: its loader ``load(config, split, pre_transform, cache_dir)`` and the
    files (relative to ``root``) whose presence identifies it (none: never guessed)."""
    load: Callable[..., Any]
    markers: tuple[str, ...]


#: kind -> its loader and markers, in the order roots are recognised.
DATASETS: dict[str, DatasetKind] = {}


def register_dataset(kind: str, markers: tuple[str, ...] = ()) -> Callable:
    """Decorator: make ``load(config, split, pre_transform, cache_dir)`` the loader of ``--dataset kind``
    (``cache_dir``: where its processed files go, ``None`` for its default). A root holding one of
    ``markers`` is recognised as this kind when ``--dataset`` is not given."""
    def add(load: Callable) -> Callable:
        if kind in DATASETS:
            raise ValueError(f"dataset kind {kind!r} is already registered")
        DATASETS[kind] = DatasetKind(load, tuple(markers))
        return load
    return add


def kinds_with_root() -> str:
    return ", ".join(k for k in DATASETS if k != "synthetic")


@dataclass
class DatasetConfig(TypedConfig):
    """Which data to load (``--dataset`` and its options on the command line, ``data:`` in a config file)."""

    dataset: str | None = None
    """The dataset kind: synthetic (the embedded task), meld (MELD's CSVs), iemocap (the IEMOCAP release),
    folder (your own), pickle (community feature files), or one registered with register_dataset (default:
    inferred from ``root``'s files, the synthetic task without a root)."""
    root: str | None = None
    """Data folder (meld, iemocap, folder) or feature file / folder (pickle)."""
    layout: Literal["mmgcn", "multiemo", "dagerc"] | None = None
    """pickle: the feature files' layout (see docs/data_format.md)."""
    labels: str | None = None
    """pickle: label names: iemocap, meld or a comma-separated list (default: from the file); iemocap: 6 or 4."""
    text_features: str = "tfidf"
    """meld, iemocap: a text spec of ``dialoggraph featurize --text`` (tfidf, sbert:MODEL, finetune:MODEL or a
    registered featurizer); meld also: a row-aligned .npy path pattern with {split}."""
    raw_root: str | None = None
    """meld: the extracted MELD.Raw clips, for audio/visual features."""
    audio: str | None = None
    """meld (with raw_root), iemocap: audio features: egemaps, compare or hf:MODEL."""
    visual: str | None = None
    """meld (with raw_root), iemocap: face features: hog, lbp, hf:MODEL or timm:MODEL."""
    num_dialogues: int = 400
    """synthetic: training dialogues (dev and test: a quarter as many)."""
    data_seed: int = 0
    """synthetic: the seed of the task."""
    cache_dir: str | None = None
    """Where processed datasets are cached (default: ROOT/processed)."""

    def check(self) -> None:
        if self.dataset is None:
            object.__setattr__(self, "dataset", infer_dataset(self.root) if self.root is not None else "synthetic")
        if self.dataset not in DATASETS:
            self.fail(f"dataset {self.dataset!r} is not a dataset kind ({', '.join(DATASETS)})")
        if self.dataset == "synthetic" and self.root is not None:
            self.fail(f"root {self.root!r} is given but dataset 'synthetic' reads no files; "
                      f"name the dataset kind ({kinds_with_root()}) or drop root")
        if self.dataset != "synthetic" and self.root is None:
            self.fail(f"root is required for dataset {self.dataset!r}")
        if self.dataset == "pickle" and self.layout is None:
            self.fail("layout (mmgcn, multiemo or dagerc) is required for dataset 'pickle'")
        if self.num_dialogues < 1:
            self.fail("num_dialogues must be >= 1")
        if self.dataset == "iemocap" and self.labels not in (None, "6", "4"):
            self.fail("labels must be 6 or 4 for dataset 'iemocap'")
        if (self.audio or self.visual) and not (self.dataset == "iemocap" or self.raw_root):
            self.fail("audio/visual features are made for dataset 'iemocap', or 'meld' with raw_root")


def infer_dataset(root: str) -> str:
    """The dataset kind of the files at ``root``: the first registered kind one of whose markers is
    there (``folder``: ``featurizers.json`` or ``train.csv``; ``meld``: ``train_sent_emo.csv``;
    ``iemocap``: ``Session1/dialog``); anything else is refused, naming what was looked for
    (``pickle`` files are never guessed)."""
    if not os.path.exists(root):
        raise DialogueValidationError(f"{root}: no such file or folder")
    for kind, registered in DATASETS.items():
        if any(os.path.exists(os.path.join(root, f)) for f in registered.markers):
            return kind
    looked = ", ".join(f for registered in DATASETS.values() for f in registered.markers)
    raise DialogueValidationError(f"{root}: cannot tell the dataset kind (no {looked}); give --dataset "
                                  f"({kinds_with_root()})")


def load_dataset(config: DatasetConfig, split: str, pre_transform=None):
    """The ``split`` (train, dev, test) of the dataset ``config`` names, graphs built by ``pre_transform``."""
    if config.dataset != "synthetic" and not os.path.exists(config.root):
        raise DialogueValidationError(f"{config.root}: no such file or folder")
    cache = os.path.join(config.cache_dir, config.dataset) if config.cache_dir else None
    return DATASETS[config.dataset].load(config, split, pre_transform, cache)


@register_dataset("synthetic")
def _synthetic(config: DatasetConfig, split: str, pre_transform, cache_dir):
    n = config.num_dialogues if split == "train" else max(1, config.num_dialogues // 4)
    return SyntheticDialogues(n, split, seed=config.data_seed, pre_transform=pre_transform)


@register_dataset("folder", markers=("featurizers.json", "train.csv"))
def _folder(config: DatasetConfig, split: str, pre_transform, cache_dir):
    return DialogueFolder(config.root, split, pre_transform=pre_transform, cache_dir=cache_dir)


@register_dataset("meld", markers=("train_sent_emo.csv",))
def _meld(config: DatasetConfig, split: str, pre_transform, cache_dir):
    return MELD(config.root, split, text_features=config.text_features, raw_root=config.raw_root,
                audio=config.audio, visual=config.visual, pre_transform=pre_transform, cache_dir=cache_dir)


@register_dataset("iemocap", markers=(os.path.join("Session1", "dialog"),))
def _iemocap(config: DatasetConfig, split: str, pre_transform, cache_dir):
    return IEMOCAP(config.root, split, labels=config.labels or "6", text=config.text_features,
                   audio=config.audio, visual=config.visual, pre_transform=pre_transform, cache_dir=cache_dir)


@register_dataset("pickle")
def _pickle(config: DatasetConfig, split: str, pre_transform, cache_dir):
    labels = LABEL_SETS.get(config.labels or "", config.labels.split(",") if config.labels else None)
    return FeaturePickle(config.root, config.layout, split, label_names=labels, pre_transform=pre_transform,
                         cache_dir=cache_dir)
