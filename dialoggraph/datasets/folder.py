"""The folder format users bring their own data in (see docs/data_format.md).

::

    root/
      labels.txt              optional: one label name per line, fixing the id order
      train.csv               columns: dialogue, speaker, label [, utterance_id, text]
      train.text.npy          [rows of train.csv, d_text]  float16/float32, row-aligned
      train.audio.npy         ... any number of modalities
      dev.csv  dev.*.npy      optional: otherwise a deterministic 10% of train dialogues
      test.csv test.*.npy

A dialogue's rows are contiguous, in utterance order (or ordered by an integer
``utterance_id`` column); an empty label means unlabeled.
"""
from __future__ import annotations

import glob
import json
import io
import os
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE, UNLABELED
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.data.labels import check_label_spellings
from dialoggraph.datasets.base import DialogueDataset
from dialoggraph.io import atomic_write, dev_holdout, read_csv
from dialoggraph.datasets.tabular import build_dialogues, check_features, group_rows

COLUMNS = ("dialogue", "speaker", "label")


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _label_names(root: str) -> list[str]:
    path = os.path.join(root, "labels.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f if line.strip()]
        if len(set(names)) != len(names) or not names:
            raise DialogueValidationError(f"{path}: label names must be unique and non-empty")
        return names
    train = os.path.join(root, "train.csv")
    if not os.path.exists(train):
        raise DialogueValidationError(f"{root}: no train.csv (needed to fix the label set)")
    labels = [label for label in (row["label"].strip() for row in read_csv(train, COLUMNS)) if label]
    values = set(labels)
    if values and all(_is_int(v) for v in values):
        return [str(i) for i in range(max(int(v) for v in values) + 1)]
    check_label_spellings(labels, train, how_to_accept="fix the CSV, or list each spelling in labels.txt to keep "
                                                       "them as classes")
    return sorted(values)


def _utterance_order(rows: list[dict[str, str]], path: str) -> np.ndarray:
    """Row order: file order, or by ``utterance_id`` within each dialogue when the column exists
    (dialogues stay in order of first appearance); ids must be integers, unique per dialogue."""
    if "utterance_id" not in rows[0]:
        return np.arange(len(rows))
    first: dict[str, int] = {}
    keys = []
    for i, row in enumerate(rows):
        value = (row["utterance_id"] or "").strip()
        if not _is_int(value):
            raise DialogueValidationError(f"{path}, line {row['_row']} (dialogue {row['dialogue']!r}): "
                                          f"utterance_id {value!r} is not an integer")
        keys.append((first.setdefault(row["dialogue"], len(first)), int(value), i))
    keys.sort()
    for (d1, u1, i1), (d2, u2, _) in zip(keys, keys[1:]):
        if (d1, u1) == (d2, u2):
            raise DialogueValidationError(f"{path}, line {rows[i1]['_row']} (dialogue {rows[i1]['dialogue']!r}): "
                                          f"utterance_id {u1} appears twice in the dialogue")
    return np.asarray([i for _, _, i in keys])


class DialogueFolder(DialogueDataset):
    """Dialogues from the folder format (module docstring; docs/data_format.md).

    Args:
        root: the folder.
        split: ``"train"``, ``"dev"`` or ``"test"``. Without ``dev.csv`` the dev
            split is a deterministic 10% of the train dialogues (by a hash of
            the dialogue id) and train is the rest.
        modalities: which ``{split}.{modality}.npy`` to load (default: all found).
        transform, pre_transform, pre_filter, force_reload, cache_dir: as in
            :class:`~dialoggraph.datasets.base.DialogueDataset`.
    """

    def __init__(self, root: str, split: str = "train", modalities: Sequence[str] | None = None,
                 transform: Callable | None = None, pre_transform: Callable | None = None,
                 pre_filter: Callable | None = None, force_reload: bool = False,
                 cache_dir: str | None = None):
        if not os.path.isdir(root):
            raise DialogueValidationError(f"{root}: no such folder")
        self.requested_modalities = tuple(modalities) if modalities is not None else None
        super().__init__(root, split, transform, pre_transform, pre_filter, force_reload, cache_dir)

    @property
    def featurizers(self) -> dict | None:
        """The ``featurizers.json`` record of the folder (``None`` when it was not made by
        ``dialoggraph featurize``): what a model trained on it needs to featurize raw input."""
        path = os.path.join(self.root, "featurizers.json")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def _holds_out_dev(self) -> bool:
        """Without dev.csv, dev and train are cut from train.csv."""
        return self.split != "test" and not os.path.exists(os.path.join(self.root, "dev.csv"))

    def _source_split(self) -> str:
        return "train" if self._holds_out_dev() else self.split

    @property
    def raw_file_names(self) -> list[str]:
        return [f"{self._source_split()}.csv"]

    def download(self) -> None:
        raise DialogueValidationError(
            f"{self.root}: no {self._source_split()}.csv (see docs/data_format.md)")

    def _modality_files(self, split: str) -> dict[str, str]:
        found = {}
        for path in sorted(glob.glob(os.path.join(self.root, f"{split}.*.npy"))):
            found[os.path.basename(path)[len(split) + 1:-len(".npy")]] = path
        wanted = self.requested_modalities or tuple(found)
        missing = [m for m in wanted if m not in found]
        if missing or not wanted:
            raise DialogueValidationError(
                f"{self.root}: no {split}.<modality>.npy for {', '.join(missing) or 'any modality'}"
                f" (found: {', '.join(found) or 'none'})")
        return {m: found[m] for m in wanted}

    def options(self) -> dict[str, Any]:
        source = self._source_split()
        files = [os.path.join(self.root, f"{source}.csv"), os.path.join(self.root, "labels.txt")]
        files += list(self._modality_files(source).values())
        stamps = {os.path.basename(p): [os.path.getsize(p), os.path.getmtime(p)]
                  for p in files if os.path.exists(p)}
        return {"modalities": self.requested_modalities, "files": stamps}

    def read(self) -> tuple[list[HeteroData], dict[str, Any]]:
        source = self._source_split()
        csv_path = os.path.join(self.root, f"{source}.csv")
        rows = read_csv(csv_path, COLUMNS)
        if not rows:
            raise DialogueValidationError(f"{csv_path}: no rows")
        label_names = _label_names(self.root)
        known = set(label_names)
        labels: list[Any] = []
        for row in rows:
            value = row["label"].strip()
            if value == "":
                labels.append(UNLABELED)
            elif value in known:
                labels.append(value)
            elif _is_int(value):
                labels.append(int(value))
            else:
                raise DialogueValidationError(
                    f"{csv_path}, line {row['_row']}: unknown label {value!r}; known labels: "
                    f"{', '.join(label_names)}")
        for row in rows:
            if not row["dialogue"].strip() or not row["speaker"].strip():
                raise DialogueValidationError(
                    f"{csv_path}, line {row['_row']}: empty dialogue or speaker")
        order = _utterance_order(rows, csv_path)
        rows = [rows[i] for i in order]
        labels = [labels[i] for i in order]

        def where(row: int) -> str:
            return f"{csv_path}, line {rows[row]['_row']} (dialogue {rows[row]['dialogue']!r})"
        features = {}
        for m, path in self._modality_files(source).items():
            array = np.load(path)
            features[m] = check_features(array[order] if len(array) == len(order) else array, path, len(rows),
                                         where)
        groups = group_rows([row["dialogue"] for row in rows], where)
        if self._holds_out_dev():
            held_out = dev_holdout(key for key, _ in groups)
            keep_dev = self.split == "dev"
            groups = [(k, r) for k, r in groups if (k in held_out) == keep_dev]
        dialogues = build_dialogues(groups, [row["speaker"] for row in rows], labels, features,
                                    label_names, csv_path)
        meta = {"label_names": label_names, "modalities": list(features),
                "feature_dims": {m: int(a.shape[1]) for m, a in features.items()}}
        return dialogues, meta


def export_folder(dialogues: Iterable[HeteroData], root: str, split: str,
                  label_names: Sequence[str]) -> None:
    """Write dialogues in the folder format (``{split}.csv``, ``{split}.{m}.npy``, ``labels.txt``).

    Every file is written atomically. All dialogues must carry the same modalities.
    """
    dialogues = list(dialogues)
    if not dialogues:
        raise DialogueValidationError("export_folder: no dialogues to write")
    modalities = tuple(dialogues[0].modalities)
    lines = ["dialogue,speaker,label"]
    arrays: dict[str, list[np.ndarray]] = {m: [] for m in modalities}
    for data in dialogues:
        if tuple(data.modalities) != modalities:
            raise DialogueValidationError(
                f"export_folder: dialogue {data.dialogue_id!r} has modalities {data.modalities}, "
                f"the first had {modalities}")
        store = data[NODE]
        for s, y in zip(store.speaker.tolist(), store.y.tolist()):
            label = "" if y == UNLABELED else label_names[y]
            fields = [str(data.dialogue_id), data.speaker_names[s], label]
            lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields))
        for m in modalities:
            arrays[m].append(store[f"x_{m}"].numpy())
    os.makedirs(root, exist_ok=True)
    atomic_write(os.path.join(root, "labels.txt"), lambda f: f.write(("\n".join(label_names) + "\n").encode()))
    atomic_write(os.path.join(root, f"{split}.csv"), lambda f: f.write(("\n".join(lines) + "\n").encode()))
    for m, parts in arrays.items():
        def write(f: io.BufferedWriter, array=np.concatenate(parts).astype(np.float32)) -> None:
            np.save(f, array)
        atomic_write(os.path.join(root, f"{split}.{m}.npy"), write)
