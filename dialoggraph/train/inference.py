"""Emotions for raw conversations from Python: a trained checkpoint, its fitted featurizers, and a
transcript table (a path, a pandas DataFrame or rows) with its media in, per-utterance labels and
probabilities out. ``dialoggraph predict`` is this class behind its options."""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import tempfile
from typing import Any, Sequence

import numpy as np

from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.folder import DialogueFolder
from dialoggraph.features.pipeline import RECORD, FeaturizeConfig, featurize
from dialoggraph.features.transcript import read_transcript
from dialoggraph.io import atomic_write
from dialoggraph.models.base import DialogueModel
from dialoggraph.train.checkpoint import CheckpointError, load_model
from dialoggraph.train.evaluation import check_split, predict


@dataclasses.dataclass
class Predictions:
    """Per-utterance predictions, in the order of the input's rows (or the dataset's dialogues).

    ``rows``: one dict per utterance (``dialogue``, ``utterance``, ``speaker``, ``text`` for raw
    input, ``label``: the gold label or ``""``, ``predicted``); ``probabilities``: ``[N, C]``
    over ``label_names``.
    """

    rows: list[dict[str, Any]]
    probabilities: np.ndarray
    label_names: list[str]

    @property
    def labels(self) -> list[str]:
        """The predicted label of every utterance."""
        return [row["predicted"] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[dict[str, Any]]:
        """Every row with its probabilities as ``p_<label>`` columns."""
        return [{**row, **{f"p_{n}": float(p) for n, p in zip(self.label_names, probs)}}
                for row, probs in zip(self.rows, self.probabilities)]

    def to_csv(self, path: str) -> None:
        """The records as a CSV (written atomically), probabilities with six decimals."""
        text = io.StringIO()
        writer = csv.writer(text)
        header = list(self.rows[0]) if self.rows else ["dialogue", "utterance", "speaker", "label", "predicted"]
        writer.writerow(header + [f"p_{n}" for n in self.label_names])
        for row, probs in zip(self.rows, self.probabilities):
            writer.writerow([row[k] for k in header] + [f"{p:.6f}" for p in probs])
        atomic_write(path, lambda f: f.write(text.getvalue().encode()))

    def to_pandas(self):
        """The records as a ``pandas.DataFrame`` (pandas must be installed)."""
        import pandas
        return pandas.DataFrame(self.records())


class Predictor:
    """A trained model with what it needs to read raw input: ``Predictor.from_checkpoint(path)``.

    Args:
        model: the model, in evaluation mode.
        state: its checkpoint (labels, data, featurizers).
        featurizers: the folder with the ``featurizers.json`` and fitted state the model's data
            was made with (``None``: :meth:`predict` on raw input is refused; datasets work).
        device: where the model runs.

    Example:
        A run trained on a featurized folder predicts a new transcript (and its media):

        .. code-block:: python

            predictor = dialoggraph.Predictor.from_checkpoint("runs/amb/best.pt")
            out = predictor.predict("new_calls.csv", media_root="recordings/")
            out.labels[:3], out.probabilities.shape       # ['neutral', 'joy', ...], (N, C)
            out.to_csv("predictions.csv")
    """

    def __init__(self, model: DialogueModel, state: dict[str, Any], featurizers: str | None = None,
                 device: str = "cpu"):
        self.model, self.state, self.featurizers, self.device = model, state, featurizers, device
        self.label_names = list(state["label_names"])

    @classmethod
    def from_checkpoint(cls, path: str, model_class: type | None = None, device: str = "cpu",
                        featurizers: str | None = None) -> "Predictor":
        """The checkpoint's model (:func:`~dialoggraph.load`) and its fitted featurizers: those in
        ``featurizers``, else the run folder's copy (``train`` keeps one beside the checkpoints or
        their seeds), else the featurized data folder the checkpoint names."""
        model, state = load_model(path, model_class, device)
        return cls(model, state, featurizers or featurizers_of(path, state), device)

    def predict_dataset(self, dataset, text: Sequence[str] | None = None) -> Predictions:
        """Predictions for every utterance of a dataset built with the model's ``pre_transform``."""
        check_split(dataset, "input", self.model, self.label_names, labelled=False)
        out = predict(self.model, dataset, device=self.device)
        rows, k = [], 0
        for dialogue, speakers in zip(out["dialogues"], out["speakers"]):
            for index, speaker in enumerate(speakers):
                y = int(out["y"][k])
                row = {"dialogue": dialogue, "utterance": index, "speaker": speaker}
                if text is not None:
                    row["text"] = text[k]
                row.update(label=self.label_names[y] if y >= 0 else "",
                           predicted=self.label_names[int(out["probs"][k].argmax())])
                rows.append(row)
                k += 1
        return Predictions(rows, out["probs"], self.label_names)

    def predict(self, transcripts: str | Any | Sequence[dict[str, Any]], media_root: str | None = None,
                encoding: str = "utf-8", cache: str | None = None, engine: str = "local",
                address: str | None = None, workers: int | None = None) -> Predictions:
        """Predictions for a transcript table in the format ``dialoggraph featurize`` reads
        (docs/featurize.md): a CSV path, a pandas DataFrame or a sequence of row dicts, with
        media paths relative to ``media_root`` (default: the CSV's folder, else the working
        folder). It is featurized with the model's fitted featurizers, as its training data was;
        media vectors are cached in ``cache`` (default: the training data folder's cache when it
        can be written, else a temporary one). Labels in the table, if any, are reported as
        ``label``; they must be among the model's. ``engine``, ``address`` and ``workers``: where the
        features are made (:func:`~dialoggraph.features.featurize`; default: this machine, with as
        many workers as when the training features were made); the model runs here."""
        if self.featurizers is None:
            raise CheckpointError("this model has no fitted featurizers (it was not trained on a folder made by "
                                  "dialoggraph featurize): predict on raw input needs them")
        with tempfile.TemporaryDirectory(prefix="dialoggraph-predict-") as tmp:
            path = transcripts if isinstance(transcripts, str) else _as_csv(transcripts, tmp)
            utterances = [dataclasses.replace(u, split="test") for u in read_transcript(path, encoding)]
            root = media_root or (os.path.dirname(os.path.abspath(path)) if isinstance(transcripts, str) else ".")
            record = featurize(utterances, os.path.join(tmp, "features"), root, fitted=self.featurizers,
                               config=FeaturizeConfig(workers=workers) if workers else None,
                               source=path if isinstance(transcripts, str) else "the rows given",
                               cache=cache or media_cache(self.state, tmp), progress=False, engine=engine,
                               address=address)
            if record["label_names"] != self.label_names:
                raise DialogueValidationError(f"{self.featurizers}: its labels {record['label_names']} are not "
                                              f"the model's {self.label_names}")
            dataset = DialogueFolder(os.path.join(tmp, "features"), "test", cache_dir=os.path.join(tmp, "cache"),
                                     pre_transform=self.model.pre_transform)
            result = self.predict_dataset(dataset, [u.text for u in utterances])
        for row, utterance in zip(result.rows, utterances):
            row["utterance"] = utterance.index
        return result


def _as_csv(rows: Any, folder: str) -> str:
    """A DataFrame or a sequence of row dicts written as a UTF-8 CSV in ``folder``."""
    path = os.path.join(folder, "transcript.csv")
    if hasattr(rows, "to_csv"):
        rows.to_csv(path, index=False)
        return path
    rows = list(rows)
    if not rows:
        raise DialogueValidationError("no rows to predict")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def featurizers_of(checkpoint: str, state: dict[str, Any]) -> str | None:
    """The folder holding the ``featurizers.json`` a checkpoint was trained with: its run folder
    (``train`` keeps a copy there), the run folder of its seeds, or the data folder it names."""
    here = os.path.dirname(os.path.abspath(checkpoint))
    data = (state.get("run") or {}).get("data") or {}
    for folder in (here, os.path.dirname(here), data.get("root") if data.get("dataset") == "folder" else None):
        if folder and os.path.exists(os.path.join(folder, RECORD)):
            return folder
    return None


def media_cache(state: dict[str, Any], tmp: str) -> str:
    """Where media vectors are kept: the featurized data folder's ``.cache`` when the model was
    trained on one that can be written (recordings featurized there are not decoded again), else a
    folder in ``tmp``."""
    data = (state.get("run") or {}).get("data") or {}
    if data.get("dataset") == "folder" and data.get("root"):
        cache = os.path.join(data["root"], ".cache")
        if os.path.isdir(cache) and os.access(cache, os.W_OK):
            return cache
    return os.path.join(tmp, "cache-media")
