"""From a transcript and its media to the folder format :class:`~dialoggraph.datasets.DialogueFolder` reads.

``featurize(transcript, out, media_root, FeaturizeConfig(...))`` writes::

    out/
      train.csv dev.csv test.csv     dialogue, utterance_id, speaker, label, text, media,
                                     audio_present, visual_present (the splits present)
      {split}.text.npy {split}.audio.npy {split}.visual.npy
      labels.txt
      featurizers/                   fitted state: TF-IDF vocabulary, fine-tuned encoder,
                                     media normalisation
      featurizers.json               what made each modality (written last: the folder is
                                     complete when it exists)
      .cache/                        one file per utterance and media modality, so an
                                     interrupted run resumes where it stopped

Missing media (an utterance with no media file given, a window with no sound
or a video in which no sampled frame shows a face) gives a zero vector after
normalisation and ``audio_present`` / ``visual_present`` = 0 in the CSV, and is
counted; a media file that does not exist or cannot be decoded, an empty text
or a badly ordered transcript is refused (naming the dialogue and utterance)
before anything is written to ``out``. The same fitted featurizers make the
features of new transcripts at prediction time (``fitted=``).
"""
from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import shutil
from typing import Any, Sequence

import numpy as np

import dialoggraph
from dialoggraph.config import TypedConfig, to_dict
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.data.labels import check_label_spellings
from dialoggraph.extras import require
from dialoggraph.progress import progress as show_progress
from dialoggraph.io import atomic_folder, atomic_write, atomic_write_json, dev_holdout
from dialoggraph.features.base import Featurizer, MediaFeaturizer, load_featurizer, make_featurizer, parse_spec
from dialoggraph.features.media import MediaError
from dialoggraph.features.transcript import SPLITS, Utterance, check_order, read_transcript

RECORD = "featurizers.json"
ENGINES = ("local", "ray")
STATE = "featurizers"
MEDIA = ("audio", "visual")


@dataclasses.dataclass
class FeaturizeConfig(TypedConfig):
    """What ``dialoggraph featurize`` makes, and how."""

    text: str = "tfidf"
    """Text features: tfidf, sbert:MODEL, finetune:MODEL, none, or a registered featurizer (MODEL: a hub name
    or a local path)."""
    audio: str | None = None
    """Audio features: egemaps (openSMILE eGeMAPSv02, 88-d), compare (ComParE_2016, 6373-d), hf:MODEL, or a
    registered featurizer."""
    visual: str | None = None
    """Face features: hog, lbp, hf:MODEL (a Hugging Face image model), timm:MODEL[@WEIGHTS], or a registered
    featurizer."""
    workers: int = 1
    """Processes that decode and encode media in parallel."""
    tfidf_dim: int = 256
    """tfidf: SVD components."""
    context: int = 2
    """finetune: previous utterances in the encoder's input."""
    finetune_epochs: int = 3
    """finetune: epochs (the one with the best dev weighted F1 is kept)."""
    finetune_lr: float = 3e-5
    """finetune: AdamW learning rate."""
    finetune_batch_size: int = 32
    """finetune: utterances per step."""
    max_length: int = 128
    """finetune: tokens per input (the context is truncated first)."""
    fps: float = 2.0
    """visual: frames sampled per second of an utterance."""
    max_frames: int = 16
    """visual: at most this many frames per utterance."""
    face_size: int = 64
    """visual: side of the aligned face crop in pixels."""
    device: str = "cpu"
    """Where learned encoders run (cpu, cuda, cuda:1, ...)."""
    seed: int = 0
    """Seed of the SVD and of fine-tuning."""

    def check(self) -> None:
        for modality in ("text", *MEDIA):
            spec = getattr(self, modality)
            if spec is not None:
                try:
                    parse_spec(modality, spec)
                except ValueError as exc:
                    self.fail(str(exc))
        for name in ("workers", "tfidf_dim", "finetune_epochs", "finetune_batch_size", "max_length",
                     "max_frames", "face_size"):
            if getattr(self, name) < 1:
                self.fail(f"{name} must be >= 1")
        if self.context < 0 or not self.fps > 0 or not self.finetune_lr > 0:
            self.fail("context must be >= 0, fps and finetune_lr > 0")

    def media_options(self) -> dict[str, Any]:
        return {"fps": self.fps, "max_frames": self.max_frames, "face_size": self.face_size}


# --- media: one cached vector per utterance, in worker processes --------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(modality: str, record: dict[str, Any], device: str) -> None:
    import torch
    torch.set_num_threads(1)
    _WORKER["featurizer"] = load_featurizer(modality, record, ".", device)


def _extract(job: tuple[int, str, float | None, float | None]) -> tuple[int, np.ndarray | None, bool, str | None]:
    row, path, start, end = job
    try:
        vector, cut = _WORKER["featurizer"].encode(path, start, end)
    except MediaError as exc:
        return row, None, False, str(exc)
    return row, vector, cut, None


def cache_path(cache: str, record: dict, path: str, start: float | None, end: float | None) -> str:
    """The cache file of one utterance's media vector: keyed by the featurizer's spec and frame sampling,
    the file's path, size and modification time, and the window."""
    stat = os.stat(path)
    key = json.dumps([record["spec"], {k: v for k, v in record.items() if k in ("fps", "max_frames", "face_size")},
                      os.path.abspath(path), stat.st_size, stat.st_mtime_ns, start, end])
    digest = hashlib.sha1(key.encode()).hexdigest()
    return os.path.join(cache, digest[:2], digest + ".npz")


def save_cached(path: str, vector: np.ndarray | None, cut: bool) -> None:
    """Write one utterance's vector (``None``: no usable media) to its cache file, atomically."""
    array = np.zeros(0, np.float32) if vector is None else np.asarray(vector, np.float32)
    atomic_write(path, lambda f: np.savez(f, vector=array, cut=np.asarray(cut)))


def load_cached(path: str) -> tuple[np.ndarray | None, bool]:
    """``(vector or None, cut)`` of a cache file :func:`save_cached` wrote."""
    with np.load(path) as saved:
        return (saved["vector"] if len(saved["vector"]) else None), bool(saved["cut"])


def featurizer_record(modality: str, spec: str, featurizer: Featurizer) -> dict[str, Any]:
    """The ``featurizers.json`` entry of a featurizer: its spec, kind, class, width and own record."""
    cls = type(featurizer)
    return {"spec": spec, "kind": parse_spec(modality, spec)[0], "class": f"{cls.__module__}:{cls.__qualname__}",
            "dim": int(featurizer.dim), **featurizer.record()}


def _media_vectors(modality: str, spec: str, utterances: Sequence[Utterance], media_root: str,
                   config: FeaturizeConfig, cache: str, progress: bool, engine: str,
                   address: str | None) -> tuple[list, dict[str, Any]]:
    """Per utterance the raw vector (``None``: missing) and the modality's record."""
    featurizer = make_featurizer(modality, spec, config)
    if not isinstance(featurizer, MediaFeaturizer):
        raise TypeError(f"--{modality} {spec}: {type(featurizer).__name__} is not a MediaFeaturizer")
    record = featurizer_record(modality, spec, featurizer)
    vectors: list = [None] * len(utterances)
    cuts, errors, jobs, cached = 0, [], [], {}
    for row, u in enumerate(utterances):
        if not featurizer.wants(u):
            continue
        path = os.path.join(media_root, u.media)
        cached[row] = cache_path(cache, record, path, u.start, u.end)
        if os.path.exists(cached[row]):
            vectors[row], cut = load_cached(cached[row])
            cuts += cut
        else:
            jobs.append((row, path, u.start, u.end))
    pool = None
    if engine == "ray" and jobs:
        from dialoggraph.features import ray_engine
        results = ray_engine.media_results(modality, record, jobs, config.device, config.workers, address)
    elif config.workers > 1 and len(jobs) > 1:
        # openSMILE / OpenCV / scikit-image workers fork (fast); learned encoders run torch, which is
        # only safe in a fresh (spawned) process.
        learned = record.get("model") is not None
        method = "fork" if not learned and "fork" in multiprocessing.get_all_start_methods() else "spawn"
        pool = concurrent.futures.ProcessPoolExecutor(
            config.workers, mp_context=multiprocessing.get_context(method), initializer=_start_worker,
            initargs=(modality, record, config.device))
        results = pool.map(_extract, jobs, chunksize=max(1, min(16, len(jobs) // (4 * config.workers))))
    else:
        _WORKER["featurizer"] = featurizer
        results = map(_extract, jobs)
    try:
        for row, vector, cut, error in show_progress(results, f"{modality} ({spec})", progress and bool(jobs),
                                                     total=len(jobs)):
            if error:
                errors.append(f"{utterances[row].where}: {error}")
                continue
            if vector is not None and len(vector) != record["dim"]:
                raise RuntimeError(f"{spec} gave a {len(vector)}-d vector, not {record['dim']}-d")
            save_cached(cached[row], vector, cut)
            vectors[row], cuts = vector, cuts + cut
    finally:
        _WORKER.clear()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if errors:
        raise MediaError(f"{len(errors)} utterance(s) with unreadable media (the others are cached; fix these "
                         f"and run again): " + "; ".join(errors[:3]) + (" ..." if len(errors) > 3 else ""))
    record.update(missing=sum(v is None for v in vectors), cut=cuts)
    return vectors, record


def _normalised(vectors: list, train_rows: np.ndarray, dim: int, state: str | None,
                fitted: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``[n, dim]`` z-scored with the train statistics (fitted: the saved ones), missing rows 0, and
    the presence mask. The statistics go to ``state`` (an ``.npz``)."""
    present = np.asarray([v is not None for v in vectors])
    raw = np.zeros((len(vectors), dim), np.float64)
    if present.any():
        raw[present] = np.stack([v for v in vectors if v is not None])
    if fitted:
        with np.load(fitted) as saved:
            mean, std = saved["mean"], saved["std"]
    else:
        rows = train_rows[present[train_rows]]
        mean = raw[rows].mean(0) if len(rows) else np.zeros(dim)
        std = raw[rows].std(0) if len(rows) > 1 else np.ones(dim)
        std = np.where(std > 1e-8, std, 1.0)
        np.savez(state, mean=mean, std=std)
    out = np.where(present[:, None], (raw - mean) / std, 0.0)
    return out.astype(np.float32), present


# --- text ------------------------------------------------------------------------------------------

def _text_features(utterances: Sequence[Utterance], config: FeaturizeConfig, label_names: list[str],
                   staging: str, cache: str, fitted: dict | None, fitted_root: str | None,
                   progress: bool, engine: str, address: str | None) -> tuple[np.ndarray, dict[str, Any]]:
    """The text features and their record: the featurizer of ``config.text`` fitted on the train
    utterances (``fitted``: the record of one fitted earlier, its state under ``fitted_root``)."""
    if fitted:
        featurizer = load_featurizer("text", fitted, fitted_root, config.device)
        record = dict(fitted)
    else:
        featurizer = make_featurizer("text", config.text, config)
        options = {k: v for k, v in to_dict(config).items() if k not in ("workers", "device", "audio", "visual")}
        key = hashlib.sha1(json.dumps(options, sort_keys=True).encode()).hexdigest()[:12]
        featurizer.fit([u for u in utterances if u.split == "train"], [u for u in utterances if u.split == "dev"],
                       label_names, state_dir=os.path.join(cache, f"text-fit-{key}"), progress=progress)
        state = featurizer.save(os.path.join(staging, STATE, "text"))
        record = featurizer_record("text", config.text, featurizer)
        if state:
            record["state"] = f"{STATE}/{state}"
    if engine == "ray":
        from dialoggraph.features import ray_engine
        features = ray_engine.text_features(featurizer, utterances, config.workers, address, config.device)
    else:
        features = featurizer.transform(utterances, progress=progress)
    record["dim"] = int(features.shape[1])
    return features, record


# --- the folder ------------------------------------------------------------------------------------

def _assign_dev(utterances: list[Utterance]) -> list[Utterance]:
    """Without a dev split, the dialogues :func:`dev_holdout` picks from train become dev (the
    ones :class:`DialogueFolder` would carve), so fine-tuning and the graph model select on
    the same dialogues."""
    if any(u.split == "dev" for u in utterances):
        return utterances
    held = dev_holdout(dict.fromkeys(u.dialogue for u in utterances if u.split == "train"))
    return [dataclasses.replace(u, split="dev") if u.dialogue in held else u for u in utterances]


def _check_media(utterances: Sequence[Utterance], media_root: str | None) -> None:
    missing = [u for u in utterances if u.media and not os.path.isfile(os.path.join(media_root or ".", u.media))]
    if missing:
        u = missing[0]
        raise MediaError(f"{len(missing)} media file(s) not found under {media_root or '.'}, first: {u.where}: "
                         f"{os.path.join(media_root or '.', u.media)}")


def _write_split(folder: str, split: str, utterances: Sequence[Utterance], rows: np.ndarray,
                 features: dict[str, np.ndarray], present: dict[str, np.ndarray]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["dialogue", "utterance_id", "speaker", "label", "text", "media"]
                    + [f"{m}_present" for m in present])
    for r in rows:
        u = utterances[r]
        writer.writerow([u.dialogue, u.index, u.speaker, u.emotion, u.text, u.media]
                        + [int(present[m][r]) for m in present])
    with open(os.path.join(folder, f"{split}.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(text.getvalue())
    for modality, array in features.items():
        np.save(os.path.join(folder, f"{split}.{modality}.npy"), array[rows])


def _prepare_out(out: str, overwrite: bool) -> None:
    record = os.path.join(out, RECORD)
    if os.path.exists(record):
        if not overwrite:
            raise FileExistsError(f"{out} is already featurized ({RECORD}); pass --overwrite to make it again")
        with open(record) as f:
            old = json.load(f).get("files", [])
        os.unlink(record)                                  # from here the folder reads as incomplete
        for name in old:
            path = os.path.join(out, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.unlink(path)
    elif os.path.isdir(out) and set(os.listdir(out)) - {".cache", ".staging"}:
        raise FileExistsError(f"{out} is not empty and not a featurize folder; choose another --out")
    os.makedirs(out, exist_ok=True)


def read_record(folder: str) -> dict[str, Any]:
    """The ``featurizers.json`` of a featurized folder (or a run folder that kept it)."""
    path = os.path.join(folder, RECORD)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{folder}: no {RECORD} (not made by dialoggraph featurize)")
    with open(path) as f:
        return json.load(f)


def featurize(transcript: str | Sequence[Utterance], out: str, media_root: str | None = None,
              config: FeaturizeConfig | None = None, label_names: Sequence[str] | None = None,
              fitted: str | None = None, overwrite: bool = False, progress: bool = True,
              source: str | None = None, encoding: str = "utf-8", cache: str | None = None,
              engine: str = "local", address: str | None = None) -> dict[str, Any]:
    """Featurize a transcript (a CSV path or :class:`Utterance` rows) into the folder ``out``.

    Args:
        transcript: the transcript CSV, or its rows.
        out: the folder to write (see the module docstring); its ``.cache`` makes a rerun resume.
        media_root: the folder the ``media`` paths are relative to (default: the transcript's folder).
        config: what to make (default: TF-IDF text only).
        label_names: the label order (default: the sorted emotions of the transcript).
        fitted: a folder with the ``featurizers.json`` of an earlier run (a featurized folder or a
            run folder that kept it): its featurizers, already fitted, make the features (its
            options replace ``config``'s but ``workers``; nothing is fitted) - how predictions on raw
            input are made.
        overwrite: replace a folder that is already featurized.
        progress: show progress bars.
        source: the transcript's name in messages (default: its path; ``transcript`` for rows).
        encoding: the transcript CSV's text encoding.
        cache: the folder of the per-utterance media cache (default: ``out/.cache``); its entries
            are keyed by the featurizer, the file's path, size and modification time and the window,
            so a folder featurized earlier lends its cache to predictions on the same recordings.
        engine: ``"local"`` (this machine: ``config.workers`` processes) or ``"ray"`` (a Ray cluster's
            actors, ``config.workers`` of them; :mod:`dialoggraph.features.ray_engine`). The features
            are the same.
        address: ``--engine ray``: the cluster to join (default: the one this process joined, else a
            new local one).

    Returns:
        the record written to ``featurizers.json``.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "ray":
        require("ray.data", "ray", "--engine ray")
    if isinstance(transcript, str):
        if media_root is None:
            media_root = os.path.dirname(os.path.abspath(transcript))
        source, utterances = source or os.path.abspath(transcript), read_transcript(transcript, encoding)
    else:
        source, utterances = source or "transcript", list(transcript)
        check_order(utterances, "transcript")
        if not utterances:
            raise DialogueValidationError("transcript: no utterances")
    previous = read_record(fitted) if fitted else None
    if previous:                                   # what to make is the fitted folder's; workers: the caller's
        workers = config.workers if config else previous["options"].get("workers", 1)
        config = FeaturizeConfig(**{**previous["options"], "workers": workers})
        label_names = previous["label_names"]
    config = config or FeaturizeConfig()
    emotions = sorted({u.emotion for u in utterances} - {""})
    if not previous:
        if not any(u.emotion for u in utterances if u.split == "train"):
            raise DialogueValidationError(f"{source}: no train utterance has an emotion label (the column is "
                                          f"'emotion'); a model cannot be trained on these features")
        check_label_spellings([u.emotion for u in utterances if u.emotion], source, label_names or (),
                              "fix the transcript, or list each spelling in --labels to keep them as classes")
    label_names = list(label_names or emotions)
    unknown = sorted(set(emotions) - set(label_names))
    if unknown:
        first = next(u for u in utterances if u.emotion in unknown)
        raise DialogueValidationError(f"{source}, line {first.line} ({first.where}): emotion {first.emotion!r} "
                                      f"is not among the labels {', '.join(label_names)}"
                                      + (f" (nor are {', '.join(map(repr, unknown[1:]))})" if unknown[1:] else ""))
    utterances = _assign_dev(utterances)
    wanted = [m for m in MEDIA if getattr(config, m)]
    if config.text == "none" and not wanted:
        raise DialogueValidationError("nothing to make: --text none and no --audio or --visual")
    if wanted:
        _check_media(utterances, media_root)
    if not previous and parse_spec("text", config.text)[0] == "finetune":
        for split in ("train", "dev"):
            if not any(u.emotion for u in utterances if u.split == split):
                raise DialogueValidationError(f"{source}: --text finetune needs labelled {split} utterances")
    _prepare_out(out, overwrite)
    cache, staging = cache or os.path.join(out, ".cache"), os.path.join(out, ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, STATE))

    train_rows = np.asarray([i for i, u in enumerate(utterances) if u.split == "train"], dtype=np.int64)
    features: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    records: dict[str, Any] = {}
    if config.text != "none":
        features["text"], records["text"] = _text_features(
            utterances, config, label_names, staging, cache, previous and previous["modalities"]["text"],
            fitted, progress, engine, address)
    for modality in wanted:
        spec = getattr(config, modality)
        vectors, record = _media_vectors(modality, spec, utterances, media_root or ".", config,
                                         os.path.join(cache, modality), progress, engine, address)
        norm = os.path.join(fitted, previous["modalities"][modality]["normalization"]) if previous else None
        features[modality], present[modality] = _normalised(
            vectors, train_rows, record["dim"], os.path.join(staging, STATE, f"{modality}.npz"), norm)
        record["normalization"] = f"{STATE}/{modality}.npz"
        records[modality] = record
    if previous:                                   # the fitted state stays where it is; copy what it needs
        shutil.rmtree(os.path.join(staging, STATE))
        shutil.copytree(os.path.join(fitted, STATE), os.path.join(staging, STATE))

    splits = {s: np.asarray([i for i, u in enumerate(utterances) if u.split == s], dtype=np.int64) for s in SPLITS}
    splits = {s: rows for s, rows in splits.items() if len(rows)}
    for split, rows in splits.items():
        _write_split(staging, split, utterances, rows, features, present)
    with open(os.path.join(staging, "labels.txt"), "w") as f:
        f.write("".join(name + "\n" for name in label_names))
    files = ["labels.txt", STATE] + [f"{s}.csv" for s in splits] + [f"{s}.{m}.npy" for s in splits for m in features]
    record = {"format": 1, "dialoggraph": dialoggraph.__version__, "options": to_dict(config),
              "transcript": {"source": source, "utterances": len(utterances),
                             "dialogues": len({u.dialogue for u in utterances})},
              "splits": {s: int(len(rows)) for s, rows in splits.items()}, "label_names": label_names,
              "modalities": records, "files": files}
    for name in files:
        target = os.path.join(out, name)
        if name == STATE:
            atomic_folder(target, lambda folder: shutil.copytree(os.path.join(staging, STATE), folder,
                                                                 dirs_exist_ok=True))
        else:
            os.replace(os.path.join(staging, name), target)
    atomic_write_json(os.path.join(out, RECORD), record)
    shutil.rmtree(staging, ignore_errors=True)
    return record


def keep_featurizers(data_root: str, run_dir: str) -> bool:
    """Copy a featurized folder's ``featurizers.json`` and fitted state into a run folder, so the
    run's checkpoints can featurize raw input (``dialoggraph predict --transcripts``) on their own.
    Returns whether there was anything to keep."""
    if not os.path.exists(os.path.join(data_root, RECORD)):
        return False
    atomic_folder(os.path.join(run_dir, STATE),
                  lambda folder: shutil.copytree(os.path.join(data_root, STATE), folder, dirs_exist_ok=True))
    shutil.copyfile(os.path.join(data_root, RECORD), os.path.join(run_dir, RECORD + ".tmp"))
    os.replace(os.path.join(run_dir, RECORD + ".tmp"), os.path.join(run_dir, RECORD))
    return True
