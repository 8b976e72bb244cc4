"""``--engine ray``: the per-utterance work of :func:`~dialoggraph.features.featurize` on a Ray cluster.

The transcript becomes a Ray Dataset and ``map_batches`` runs a pool of actors over it
(``concurrency`` = ``FeaturizeConfig.workers``; one GPU per actor when ``device`` is CUDA):

- media: one row per utterance window still missing from the cache; each actor rebuilds the
  featurizer from its ``featurizers.json`` entry (:func:`~dialoggraph.features.load_featurizer`)
  and encodes the windows (the media root must be readable by every node, as the folder
  ``out`` with its cache must be writable by the driver);
- text: one row per dialogue (context-aware encoders see whole dialogues); the featurizer,
  fitted once on the train split by the driver, is shipped to every actor through the
  object store.

The driver writes each finished vector to the per-utterance cache as it arrives, so an
interrupted run resumes where it stopped. Ray restarts an actor that dies and retries its batch
(Ray Data's defaults for actor pools); the results are keyed by row, so a retried batch neither
loses nor duplicates an utterance.
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import numpy as np

from dialoggraph.extras import require
from dialoggraph.features.base import Featurizer, load_featurizer
from dialoggraph.features.media import MediaError
from dialoggraph.features.transcript import Utterance

#: Utterance windows (media) or dialogues (text) per batch of an actor.
MEDIA_BATCH = 8
TEXT_BATCH = 16


def connect(address: str | None) -> Any:
    """The ``ray`` module, connected: to the cluster at ``address``, to the one this process already
    joined, or (neither) to a new local one of this machine's CPUs on the loopback address."""
    ray = require("ray", "ray", "--engine ray")
    require("ray.data", "ray", "--engine ray")
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def _actor_options(ray: Any, device: str, workers: int) -> dict[str, Any]:
    """``map_batches``' options: a pool of ``workers`` actors of one CPU (and one GPU for CUDA)."""
    return {"compute": ray.data.ActorPoolStrategy(size=workers), "num_cpus": 1,
            "num_gpus": 1 if device.startswith("cuda") else 0}


class _MediaActor:
    """Encodes utterance windows with the featurizer of a ``featurizers.json`` entry."""

    def __init__(self, modality: str, record: dict[str, Any], device: str):
        import torch
        torch.set_num_threads(1)
        self.featurizer = load_featurizer(modality, record, ".", "cuda" if device.startswith("cuda") else device)
        self.dim = int(record["dim"])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = len(batch["row"])
        vectors = np.full((n, self.dim), np.nan, np.float32)
        present, cut, errors = np.zeros(n, bool), np.zeros(n, bool), []
        for i in range(n):
            start, end = (None if math.isnan(v) else float(v) for v in (batch["start"][i], batch["end"][i]))
            error = ""
            try:
                vector, cut[i] = self.featurizer.encode(str(batch["path"][i]), start, end)
            except MediaError as exc:
                vector, error = None, str(exc)
            if vector is not None:
                if len(vector) != self.dim:
                    raise RuntimeError(f"{self.featurizer.__class__.__name__} gave a {len(vector)}-d vector, "
                                       f"not {self.dim}-d")
                vectors[i], present[i] = vector, True
            errors.append(error)
        return {"row": batch["row"], "vector": vectors, "present": present, "cut": cut,
                "error": np.asarray(errors, dtype=object)}


def media_results(modality: str, record: dict[str, Any], jobs: Sequence[tuple[int, str, float | None, float | None]],
                  device: str, workers: int, address: str | None) -> Iterator[tuple[int, np.ndarray | None, bool,
                                                                                      str | None]]:
    """``(row, vector or None, cut, error or None)`` of each job ``(row, path, start, end)``, in the
    order the actors finish them."""
    ray = connect(address)
    items = [{"row": row, "path": path, "start": math.nan if start is None else start,
              "end": math.nan if end is None else end} for row, path, start, end in jobs]
    dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * workers)))
    done = dataset.map_batches(_MediaActor, fn_constructor_kwargs={"modality": modality, "record": record,
                                                                   "device": device},
                               batch_size=MEDIA_BATCH, batch_format="numpy", **_actor_options(ray, device, workers))
    for batch in done.iter_batches(batch_size=None, batch_format="numpy"):
        for i, row in enumerate(batch["row"]):
            vector = batch["vector"][i] if batch["present"][i] else None
            yield int(row), vector, bool(batch["cut"][i]), (str(batch["error"][i]) or None)


class _TextActor:
    """Transforms whole dialogues with a fitted text featurizer."""

    def __init__(self, featurizer: Featurizer, utterances: list[Utterance]):
        import torch
        torch.set_num_threads(1)
        self.featurizer, self.utterances = featurizer, utterances

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = np.concatenate([np.arange(first, last) for first, last in zip(batch["first"], batch["last"])])
        features = self.featurizer.transform([self.utterances[r] for r in rows])
        return {"row": rows, "features": np.asarray(features, np.float32)}


def text_features(featurizer: Featurizer, utterances: Sequence[Utterance], workers: int, address: str | None,
                  device: str) -> np.ndarray:
    """``featurizer.transform(utterances)`` computed by a pool of actors, one dialogue per row."""
    ray = connect(address)
    bounds, first = [], 0
    for i in range(1, len(utterances) + 1):
        if i == len(utterances) or utterances[i].dialogue != utterances[first].dialogue:
            bounds.append({"first": first, "last": i})
            first = i
    dataset = ray.data.from_items(bounds, override_num_blocks=max(1, min(len(bounds), 4 * workers)))
    done = dataset.map_batches(_TextActor, fn_constructor_kwargs={"featurizer": featurizer,
                                                                  "utterances": list(utterances)},
                               batch_size=TEXT_BATCH,
                               batch_format="numpy", **_actor_options(ray, device, workers))
    out = np.zeros((len(utterances), featurizer.dim), np.float32)
    seen = np.zeros(len(utterances), bool)
    for batch in done.iter_batches(batch_size=None, batch_format="numpy"):
        out[batch["row"]] = batch["features"]
        seen[batch["row"]] = True
    if not seen.all():
        raise RuntimeError(f"--engine ray returned no text features for {int((~seen).sum())} utterance(s)")
    return out
