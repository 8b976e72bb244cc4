"""What every file-backed dialogue dataset shares: splits, the atomic cache, label names."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import warnings
from typing import Any, Callable

import torch
from torch_geometric.data import HeteroData, InMemoryDataset

from dialoggraph.data.splits import SPLITS
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.io import atomic_write, atomic_write_json


class DialogueDataset(InMemoryDataset):
    """An :class:`~torch_geometric.data.InMemoryDataset` of dialogues (one split).

    Subclasses implement :meth:`read` (raw files -> list of dialogues + metadata)
    and :meth:`options` (everything that changes the processed result). The
    processed split is cached under ``cache_dir`` (default ``root/processed``)
    in a file named by a digest of the options and the ``pre_transform``, so
    different settings never read each other's cache; it is written to a
    temporary file and renamed, so an interrupted run leaves no half cache.

    Attributes:
        label_names: the label set, in id order.
        modalities: the feature modalities each dialogue carries.
        meta: everything else :meth:`read` recorded (feature sizes, speakers...).
    """

    def __init__(self, root: str, split: str, transform: Callable | None = None,
                 pre_transform: Callable | None = None, pre_filter: Callable | None = None,
                 force_reload: bool = False, cache_dir: str | None = None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.split = split
        self._cache_dir = cache_dir
        self._pre_transform_repr = repr(pre_transform)
        with warnings.catch_warnings():
            # PyG warns when pre_transform differs from the last one processed in this
            # folder; our cache names carry the pre_transform, so that cannot mix them up.
            warnings.filterwarnings("ignore", message="The `pre_(transform|filter)` argument differs")
            try:
                super().__init__(root, transform, pre_transform, pre_filter, log=False, force_reload=force_reload)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise
                raise DialogueValidationError(
                    f"cannot write the processed cache to {self.processed_dir} ({exc.strerror}); "
                    f"pass --cache-dir (cache_dir=) to put it elsewhere") from None
        self.load(self.processed_paths[0])
        with open(self.processed_paths[1]) as f:
            self.meta: dict[str, Any] = json.load(f)
        self.label_names: list[str] = self.meta["label_names"]
        self.modalities: tuple[str, ...] = tuple(self.meta["modalities"])

    # -- to override -----------------------------------------------------
    def options(self) -> dict[str, Any]:
        """Settings that change the processed data (part of the cache name)."""
        return {}

    def read(self) -> tuple[list[HeteroData], dict[str, Any]]:
        """Raw files -> (dialogues of ``self.split``, metadata with ``label_names``, ``modalities``)."""
        raise NotImplementedError

    # -- PyG plumbing ----------------------------------------------------
    @property
    def raw_dir(self) -> str:
        return self.root

    @property
    def processed_dir(self) -> str:
        return self._cache_dir or os.path.join(self.root, "processed")

    @property
    def processed_file_names(self) -> list[str]:
        key = json.dumps({"class": type(self).__name__, "options": self.options(),
                          "pre_transform": self._pre_transform_repr}, sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        return [f"{self.split}-{digest}.pt", f"{self.split}-{digest}.json"]

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def process(self) -> None:
        data_list, meta = self.read()
        if self.pre_filter is not None:
            data_list = [d for d in data_list if self.pre_filter(d)]
        if self.pre_transform is not None:
            data_list = [self.pre_transform(d) for d in data_list]
        data, slices = self.collate(data_list)
        # The JSON is written first: the .pt's presence is what marks the cache complete.
        atomic_write_json(self.processed_paths[1], meta)
        atomic_write(self.processed_paths[0],
                     lambda f: torch.save((data.to_dict(), slices, data.__class__), f))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, split={self.split!r})"
