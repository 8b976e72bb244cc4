"""MELD (Poria et al., ACL 2019) from its official CSVs."""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections import Counter
from typing import Any, Callable, Sequence

import numpy as np
from torch_geometric.data import HeteroData, download_url

from dialoggraph.config import to_dict
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.base import SPLITS, DialogueDataset
from dialoggraph.io import read_csv
from dialoggraph.datasets.tabular import build_dialogues, check_features, group_rows
from dialoggraph.features.base import make_featurizer, parse_spec, spec_values
from dialoggraph.features.timing import timing_features
from dialoggraph.features.pipeline import RECORD, FeaturizeConfig, featurize
from dialoggraph.features.transcript import Utterance

EMOTIONS = ["neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"]
SENTIMENTS = ["neutral", "positive", "negative"]
COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
URL = "https://raw.githubusercontent.com/declare-lab/MELD/master/data/MELD"
OTHER_SPEAKER = "other"
#: Where MELD.Raw keeps each split's clips ``dia{D}_utt{U}.mp4`` (its train/dev/test archives, extracted).
RAW_FOLDERS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}


def sorted_rows(path: str) -> tuple[list[dict[str, str]], np.ndarray]:
    """Rows of one split's CSV and the permutation that orders them by dialogue, utterance."""
    rows = read_csv(path, COLUMNS)
    keys = []
    seen = set()
    for row in rows:
        try:
            key = (int(row["Dialogue_ID"]), int(row["Utterance_ID"]))
        except ValueError:
            raise DialogueValidationError(
                f"{path}, line {row['_row']}: Dialogue_ID/Utterance_ID must be integers") from None
        if key in seen:
            raise DialogueValidationError(
                f"{path}, line {row['_row']}: duplicate utterance {key[1]} of dialogue {key[0]}")
        seen.add(key)
        keys.append(key)
    return rows, np.asarray(sorted(range(len(rows)), key=keys.__getitem__), dtype=np.int64)


def meld_transcript(root: str, raw_root: str | None = None, splits: Sequence[str] = SPLITS) -> list[Utterance]:
    """MELD's CSVs as transcript rows for :func:`~dialoggraph.features.featurize` (dialogue ids
    ``{split}_dia{D}``, emotions lower-cased).

    With ``raw_root`` (the extracted MELD.Raw: ``train_splits/``, ``dev_splits_complete/``,
    ``output_repeated_splits_test/``) each row's ``media`` is its clip ``dia{D}_utt{U}.mp4``
    relative to ``raw_root``; a clip the release lacks (MELD.Raw misses a few) gets no media
    (zero features, ``*_present`` = 0) and a warning that counts them.
    """
    out, absent = [], []
    for split in splits:
        path = os.path.join(root, f"{split}_sent_emo.csv")
        rows, order = sorted_rows(path)
        for i in order:
            row = rows[i]
            d, u = int(row["Dialogue_ID"]), int(row["Utterance_ID"])
            media = ""
            if raw_root is not None:
                media = os.path.join(RAW_FOLDERS[split], f"dia{d}_utt{u}.mp4")
                if not os.path.isfile(os.path.join(raw_root, media)):
                    absent.append(media)
                    media = ""
            out.append(Utterance(f"{split}_dia{d}", u, row["Speaker"].strip() or "?",
                                 " ".join(row["Utterance"].split()), row["Emotion"].strip().lower(), split, media,
                                 line=int(row["_row"])))
    if absent:
        warnings.warn(f"{raw_root}: {len(absent)} MELD clip(s) missing (e.g. {absent[0]}); those utterances get "
                      f"zero audio/visual features", stacklevel=2)
    return out


class MELD(DialogueDataset):
    """MELD dialogues with text (and optionally timing) features.

    ``root`` holds the official ``{train,dev,test}_sent_emo.csv``; when they are
    absent they are downloaded from the official MELD repository. Utterances are
    ordered by ``(Dialogue_ID, Utterance_ID)``.

    Args:
        root: folder with the CSVs (processed cache under ``root/processed``
            unless ``cache_dir`` is given).
        split: ``"train"``, ``"dev"`` or ``"test"``.
        text_features: a text spec of :func:`~dialoggraph.features.featurize` (the one
            grammar of ``dialoggraph featurize --text``), or the file name of a row-aligned
            ``.npy`` in ``root`` with ``{split}`` in it, e.g. ``"{split}_sent_emo.minilm.npy"``.
            ``"tfidf"`` (default: TF-IDF + truncated SVD fitted on train only, no download) is
            made in memory; any other spec (``"sbert:MODEL"``, ``"finetune:MODEL"``: the fine-tuned
            :class:`~dialoggraph.features.ContextualTextEncoder` learns the 7 emotions on train, its
            epoch chosen on dev) is made by :func:`~dialoggraph.features.featurize` once, into
            ``features_dir``.
        text_dim: TF-IDF/SVD output size.
        timing: add an ``x_timing`` modality (log duration, words/s, words).
        target: ``"emotion"`` (7 classes, MELD's order) or ``"sentiment"`` (3).
        min_speaker_utterances: speakers with fewer train utterances share the
            global speaker id of ``"other"`` (id 0).
        raw_root: the extracted MELD.Raw (``train_splits/``, ``dev_splits_complete/``,
            ``output_repeated_splits_test/`` with the clips ``dia{D}_utt{U}.mp4``), for
            ``audio`` / ``visual`` features made from the clips by
            :func:`~dialoggraph.features.featurize` (once, into ``features_dir``,
            default ``root/featurized/featurize-<digest>``).
        audio: ``egemaps``, ``compare`` or ``hf:MODEL`` (needs ``raw_root``).
        visual: ``hog``, ``lbp``, ``hf:MODEL`` or ``timm:MODEL`` (needs ``raw_root``).
        featurize_options: other :class:`~dialoggraph.features.FeaturizeConfig` fields.
    """

    def __init__(self, root: str, split: str = "train", text_features: str = "tfidf",
                 text_dim: int = 256, timing: bool = False, target: str = "emotion",
                 min_speaker_utterances: int = 20,
                 raw_root: str | None = None, audio: str | None = None, visual: str | None = None,
                 featurize_options: dict[str, Any] | None = None, features_dir: str | None = None,
                 transform: Callable | None = None, pre_transform: Callable | None = None,
                 pre_filter: Callable | None = None, force_reload: bool = False,
                 cache_dir: str | None = None):
        if (audio or visual) and raw_root is None:
            raise ValueError("audio/visual features are made from MELD.Raw's clips: give raw_root")
        self.raw_root, self.audio, self.visual = raw_root, audio, visual
        from_file = "{split}" in text_features
        if text_features == "none":
            raise ValueError("text_features 'none': MELD's graphs need text features")
        if not from_file:
            try:
                parse_spec("text", text_features)
            except ValueError:
                raise ValueError(f"text_features must be one of {spec_values('text')} or a file name pattern "
                                 f"containing '{{split}}', got {text_features!r}") from None
        featurized_text = not from_file and text_features != "tfidf"
        self.featurize_config = None
        if featurized_text or audio or visual:
            self.featurize_config = FeaturizeConfig(text=text_features if featurized_text else "none", audio=audio,
                                                    visual=visual, **(featurize_options or {}))
        self.features_dir = features_dir
        if target not in ("emotion", "sentiment"):
            raise ValueError(f"target must be 'emotion' or 'sentiment', got {target!r}")
        self.text_features = text_features
        self.text_dim = text_dim
        self.timing = timing
        self.target = target
        self.min_speaker_utterances = min_speaker_utterances
        super().__init__(root, split, transform, pre_transform, pre_filter, force_reload, cache_dir)

    @property
    def raw_file_names(self) -> list[str]:
        names = sorted({"train_sent_emo.csv", f"{self.split}_sent_emo.csv"})
        if "{split}" in self.text_features:
            names.append(self.text_features.format(split=self.split))
        return names

    def download(self) -> None:
        for name in self.raw_file_names:
            if not name.endswith(".csv"):
                raise DialogueValidationError(
                    f"{os.path.join(self.root, name)}: feature file not found (it cannot be "
                    f"downloaded; compute it or use text_features='tfidf')")
            if not os.path.exists(os.path.join(self.root, name)):
                download_url(f"{URL}/{name}", self.root)

    def options(self) -> dict[str, Any]:
        return {"text_features": self.text_features, "text_dim": self.text_dim,
                "timing": self.timing, "target": self.target,
                "min_speaker_utterances": self.min_speaker_utterances,
                "featurized": [self.raw_root and os.path.abspath(self.raw_root), to_dict(self.featurize_config)]
                if self.featurize_config else None}

    def _featurized_folder(self) -> str:
        """The folder of the features :func:`featurize` makes (fine-tuned / sbert text, the clips'
        audio and faces), made on first use."""
        digest = hashlib.sha1(json.dumps(self.options()["featurized"], sort_keys=True).encode()).hexdigest()[:10]
        folder = self.features_dir or os.path.join(self.root, "featurized", f"featurize-{digest}")
        if not os.path.exists(os.path.join(folder, RECORD)):
            featurize(meld_transcript(self.root, self.raw_root), folder, self.raw_root, self.featurize_config,
                      EMOTIONS)
        return folder

    def _read_split(self, split: str) -> tuple[str, list[dict[str, str]], np.ndarray]:
        path = os.path.join(self.root, f"{split}_sent_emo.csv")
        return (path, *sorted_rows(path))

    def read(self) -> tuple[list[HeteroData], dict[str, Any]]:
        _, train_rows, _ = self._read_split("train")
        path, rows, order = self._read_split(self.split)
        rows = [rows[i] for i in order]
        texts = [r["Utterance"] for r in rows]

        made = {}
        if self.featurize_config is not None:
            folder = self._featurized_folder()
            for modality in ("text", "audio", "visual"):
                npy = os.path.join(folder, f"{self.split}.{modality}.npy")
                if getattr(self.featurize_config, modality) not in (None, "none"):
                    made[modality] = check_features(np.load(npy), npy, len(rows))
        if "text" in made:
            text = made.pop("text")
        elif "{split}" in self.text_features:
            npy = os.path.join(self.root, self.text_features.format(split=self.split))
            text = check_features(np.load(npy), npy, len(rows))[order]
        else:                                                   # tfidf, fitted on train
            featurizer = make_featurizer("text", "tfidf", FeaturizeConfig(tfidf_dim=self.text_dim))
            text = featurizer.fit([r["Utterance"] for r in train_rows]).transform(texts)
        features = {"text": text, **made}
        if self.timing:
            features["timing"] = timing_features([r["StartTime"] for r in rows],
                                                 [r["EndTime"] for r in rows], texts, path)

        label_names = EMOTIONS if self.target == "emotion" else SENTIMENTS
        column = "Emotion" if self.target == "emotion" else "Sentiment"
        labels = []
        for r in rows:
            value = r[column].strip().lower()
            if value not in label_names:
                raise DialogueValidationError(
                    f"{path}, line {r['_row']}: unknown {column.lower()} {r[column]!r}; known: "
                    f"{', '.join(label_names)}")
            labels.append(value)

        counts = Counter(r["Speaker"] for r in train_rows)
        vocab = [OTHER_SPEAKER] + sorted(s for s, c in counts.items()
                                         if c >= self.min_speaker_utterances and s != OTHER_SPEAKER)
        index = {s: i for i, s in enumerate(vocab)}
        speaker_global = np.asarray([index.get(r["Speaker"], 0) for r in rows], dtype=np.int64)

        groups = group_rows([f"{self.split}_dia{r['Dialogue_ID']}" for r in rows])
        dialogues = build_dialogues(groups, [r["Speaker"] for r in rows], labels, features,
                                    label_names, path, speaker_global=speaker_global)
        meta = {"label_names": label_names, "modalities": list(features),
                "feature_dims": {m: int(a.shape[1]) for m, a in features.items()},
                "speaker_vocab": vocab}
        return dialogues, meta
