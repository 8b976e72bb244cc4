"""The community feature files the seed code bases train on.

Three layouts (see docs/data_format.md):

``"mmgcn"``
    One pickle holding a tuple, as in DialogueGCN / MMGCN / M3Net:
    ``videoIDs, videoSpeakers, videoLabels, videoText, [roberta1..4,] videoAudio,
    videoVisual, videoSentence, trainVid, testVid[, devVid]``. The dicts are
    keyed by dialogue id; speakers are ``'M'``/``'F'`` (IEMOCAP) or one-hot
    vectors (MELD). Modalities: ``text``, ``audio``, ``visual`` and, when
    present, ``roberta1`` .. ``roberta4``.
``"multiemo"``
    A folder with ``Speakers.pkl`` (the same tuple, of which the speakers,
    labels and split lists are used) and ``TextFeatures.pkl``,
    ``AudioFeatures.pkl``, ``VisualFeatures.pkl`` (dicts keyed by dialogue id).
``"dagerc"``
    A folder with DAG-ERC's ``{split}_data_roberta.json.feature`` (or
    ``{split}.json``): a JSON list of dialogues, each a list of utterances
    ``{"text", "speaker", "label", "cls"}``; ``cls`` is the feature vector
    (a list of layer vectors is averaged). Modality: ``text``.

Pickles are untrusted input and are read through a restricted unpickler that
refuses anything but containers, numbers, strings and numpy arrays.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Sequence

import numpy as np
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import make_dialogue
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.base import DialogueDataset
from dialoggraph.io import dev_holdout, safe_unpickle

LAYOUTS = ("mmgcn", "multiemo", "dagerc")
IEMOCAP_LABELS = ["happy", "sad", "neutral", "angry", "excited", "frustrated"]
MELD_LABELS = ["neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"]


def _is_split_list(value: Any, ids: dict) -> bool:
    return isinstance(value, (list, tuple, set, frozenset)) and len(value) > 0 and \
        all(not isinstance(v, (list, tuple, dict, np.ndarray)) and v in ids for v in value)


def _parse_tuple(obj: Any, path: str) -> dict[str, Any]:
    """Name the fields of an MMGCN-style tuple by their positions and kinds."""
    if not isinstance(obj, (tuple, list)) or not obj or not isinstance(obj[0], dict):
        raise DialogueValidationError(
            f"{path}: expected a tuple (videoIDs, videoSpeakers, videoLabels, ...) of dicts "
            f"and split lists, got {type(obj).__name__}")
    ids = obj[0]
    dicts = [v for v in obj if isinstance(v, dict)]
    splits = [v for v in obj if _is_split_list(v, ids)]
    if len(dicts) < 4 or len(splits) < 2:
        raise DialogueValidationError(
            f"{path}: expected at least videoIDs, videoSpeakers, videoLabels, one feature dict "
            f"and trainVid/testVid lists; found {len(dicts)} dicts and {len(splits)} split lists")
    fields = {"ids": ids, "speakers": dicts[1], "labels": dicts[2],
              "train": list(splits[0]), "test": list(splits[1]),
              "dev": list(splits[2]) if len(splits) > 2 else None}
    # Feature dicts run from position 3 up to videoSentence (values are lists of strings).
    features = []
    for d in dicts[3:]:
        sample = next(iter(d.values()), None)
        if isinstance(sample, (list, tuple)) and sample and isinstance(sample[0], str):
            break
        features.append(d)
    names = {1: ["text"], 2: ["text", "audio"], 3: ["text", "audio", "visual"],
             6: ["text", "roberta2", "roberta3", "roberta4", "audio", "visual"],
             7: ["text", "roberta1", "roberta2", "roberta3", "roberta4", "audio", "visual"]}
    if len(features) not in names:
        raise DialogueValidationError(
            f"{path}: {len(features)} feature dicts between videoLabels and videoSentence; "
            f"expected 1, 2, 3 (text, audio, visual), 6 (AMB-DSGDN's: text = roberta1, roberta2..4, audio, "
            f"visual) or 7 (text, roberta1..4, audio, visual)")
    fields["features"] = dict(zip(names[len(features)], features))
    return fields


def _speaker_names(raw: Sequence[Any], where: str) -> list[Any]:
    """'M'/'F' strings stay; one-hot vectors become the index of their 1."""
    out = []
    for s in raw:
        if isinstance(s, str):
            out.append(s)
        else:
            vector = np.asarray(s)
            if vector.ndim != 1 or vector.size == 0:
                raise DialogueValidationError(f"{where}: speaker {s!r} is neither a name nor one-hot")
            out.append(int(vector.argmax()))
    return out


class FeaturePickle(DialogueDataset):
    """Dialogues from the community feature files (module docstring).

    Args:
        path: the pickle (``"mmgcn"``) or the folder (``"multiemo"``, ``"dagerc"``).
        layout: ``"mmgcn"``, ``"multiemo"`` or ``"dagerc"``.
        split: ``"train"``, ``"dev"`` or ``"test"``; without a dev list, dev is
            a deterministic 10% of the train dialogues.
        label_names: the label set in id order (e.g. :data:`IEMOCAP_LABELS`,
            :data:`MELD_LABELS`). Default: ``"0"``, ``"1"``, ... for integer
            labels; sorted train names for DAG-ERC's string labels.
        modalities: which modalities to keep (default: all in the file).
        cache_dir: where the processed split is cached (default: beside ``path``
            in ``processed/``).
    """

    def __init__(self, path: str, layout: str, split: str = "train",
                 label_names: Sequence[str] | None = None,
                 modalities: Sequence[str] | None = None,
                 transform: Callable | None = None, pre_transform: Callable | None = None,
                 pre_filter: Callable | None = None, force_reload: bool = False,
                 cache_dir: str | None = None):
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        if not os.path.exists(path):
            raise DialogueValidationError(f"{path}: no such file or folder")
        self.path = os.path.abspath(path)
        self.layout = layout
        self.given_labels = list(label_names) if label_names is not None else None
        self.requested_modalities = tuple(modalities) if modalities is not None else None
        root = os.path.dirname(self.path) if layout == "mmgcn" else self.path
        super().__init__(root, split, transform, pre_transform, pre_filter, force_reload,
                         cache_dir or os.path.join(root, "processed",
                                                   os.path.basename(self.path) + "-" + layout))

    @property
    def raw_file_names(self) -> list[str]:
        return []

    def options(self) -> dict[str, Any]:
        stat = os.stat(self.path)
        return {"path": self.path, "layout": self.layout, "labels": self.given_labels,
                "modalities": self.requested_modalities, "stamp": [stat.st_size, stat.st_mtime]}

    def read(self) -> tuple[list[HeteroData], dict[str, Any]]:
        if self.layout == "dagerc":
            return self._read_dagerc()
        if self.layout == "mmgcn":
            fields = _parse_tuple(safe_unpickle(self.path), self.path)
            source = self.path
        else:
            speakers_pkl = os.path.join(self.path, "Speakers.pkl")
            fields = _parse_tuple(safe_unpickle(speakers_pkl), speakers_pkl)
            fields["features"] = {}
            for modality, name in (("text", "TextFeatures.pkl"), ("audio", "AudioFeatures.pkl"),
                                   ("visual", "VisualFeatures.pkl")):
                file = os.path.join(self.path, name)
                if os.path.exists(file):
                    table = safe_unpickle(file)
                    if not isinstance(table, dict):
                        raise DialogueValidationError(f"{file}: expected a dict keyed by dialogue id")
                    fields["features"][modality] = table
            source = self.path
        features = self._select(fields["features"], source)
        vids = self._split_ids(fields["train"], fields["test"], fields["dev"])
        max_label = max((int(np.max(np.asarray(fields["labels"][v]))) for v in fields["train"]
                         if v in fields["labels"] and len(fields["labels"][v])), default=0)
        label_names = self.given_labels or [str(i) for i in range(max_label + 1)]
        dialogues = []
        for vid in vids:
            where = f"{source}, dialogue {vid!r}"
            for name, table in [("videoSpeakers", fields["speakers"]), ("videoLabels", fields["labels"])] + \
                    [(m, t) for m, t in features.items()]:
                if vid not in table:
                    raise DialogueValidationError(f"{where}: missing from {name}")
            labels = [int(v) for v in np.asarray(fields["labels"][vid]).reshape(-1)]
            feats = {m: np.asarray(t[vid], dtype=np.float32) for m, t in features.items()}
            try:
                dialogues.append(make_dialogue(_speaker_names(fields["speakers"][vid], where),
                                               labels, str(vid), labels=label_names, **feats))
            except DialogueValidationError as exc:
                raise DialogueValidationError(f"{source}: {exc}") from None
        meta = {"label_names": label_names, "modalities": list(features),
                "feature_dims": {m: int(dialogues[0]["utterance"][f"x_{m}"].size(1)) for m in features}
                if dialogues else {}}
        return dialogues, meta

    def _select(self, features: dict[str, dict], source: str) -> dict[str, dict]:
        if self.requested_modalities is None:
            return features
        missing = [m for m in self.requested_modalities if m not in features]
        if missing:
            raise DialogueValidationError(
                f"{source}: no modality {', '.join(missing)} (has: {', '.join(features)})")
        return {m: features[m] for m in self.requested_modalities}

    def _split_ids(self, train: list, test: list, dev: list | None) -> list:
        if self.split == "test":
            return list(test)
        if dev is not None:
            return list(train if self.split == "train" else dev)
        held_out = dev_holdout(train)
        return [v for v in train if (v in held_out) == (self.split == "dev")]

    def _read_dagerc(self) -> tuple[list[HeteroData], dict[str, Any]]:
        def file_of(split: str) -> str:
            for name in (f"{split}_data_roberta.json.feature", f"{split}.json"):
                candidate = os.path.join(self.path, name)
                if os.path.exists(candidate):
                    return candidate
            raise DialogueValidationError(
                f"{self.path}: no {split}_data_roberta.json.feature or {split}.json")

        def load(file: str) -> list:
            try:
                with open(file, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as exc:
                raise DialogueValidationError(f"{file}: not a readable JSON file ({exc})") from None
            if not isinstance(data, list):
                raise DialogueValidationError(f"{file}: expected a list of dialogues")
            return data

        train_file = file_of("train")
        has_dev = any(os.path.exists(os.path.join(self.path, n))
                      for n in ("dev_data_roberta.json.feature", "dev.json"))
        holds_out = self.split != "test" and not has_dev
        source_split = "train" if holds_out else self.split
        file = file_of(source_split)
        raw = load(file)
        label_names = self.given_labels
        if label_names is None:
            train_labels = {u.get("label") for d in load(train_file) for u in d if isinstance(u, dict)}
            train_labels.discard(None)
            if all(isinstance(v, int) for v in train_labels):
                label_names = [str(i) for i in range(max(train_labels, default=0) + 1)]
            else:
                label_names = sorted(str(v) for v in train_labels)
        keys = [f"{source_split}_{i}" for i in range(len(raw))]
        if holds_out:
            held_out = dev_holdout(keys)
            chosen = [i for i, k in enumerate(keys) if (k in held_out) == (self.split == "dev")]
        else:
            chosen = list(range(len(raw)))
        dialogues = []
        for i in chosen:
            where = f"{file}, dialogue {i}"
            utterances = raw[i]
            if not isinstance(utterances, list) or not utterances:
                raise DialogueValidationError(f"{where}: expected a non-empty list of utterances")
            for j, u in enumerate(utterances):
                if not isinstance(u, dict) or "speaker" not in u or "cls" not in u:
                    raise DialogueValidationError(
                        f"{where}, utterance {j}: expected an object with speaker and cls")
            cls = [np.asarray(u["cls"], dtype=np.float32) for u in utterances]
            cls = [c.mean(axis=0) if c.ndim == 2 else c for c in cls]
            if len({c.shape for c in cls}) != 1 or cls[0].ndim != 1:
                raise DialogueValidationError(f"{where}: cls vectors differ in shape")
            labels = [u.get("label", -1) for u in utterances]
            labels = [-1 if v is None else v for v in labels]
            try:
                dialogues.append(make_dialogue([u["speaker"] for u in utterances], labels,
                                               keys[i], labels=label_names, text=np.stack(cls)))
            except DialogueValidationError as exc:
                raise DialogueValidationError(f"{file}: {exc}") from None
        meta = {"label_names": label_names, "modalities": ["text"],
                "feature_dims": {"text": int(dialogues[0]["utterance"].x_text.size(1))} if dialogues else {}}
        return dialogues, meta
