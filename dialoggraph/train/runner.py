"""A run: one model trained over one or several seeds on one dataset, dev-selected, in a run folder
that ``evaluate``, ``predict``, ``compare`` and ``explain`` read. ``dialoggraph train``,
``reproduce`` and ``tune`` are this function behind their options."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import torch

from dialoggraph.config import ConfigError, from_dict, to_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.features.pipeline import RECORD, STATE, keep_featurizers
from dialoggraph.io import atomic_write_json, atomic_write_yaml
from dialoggraph.models import DialogueModel, ModelConfig, model_spec, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.callbacks import RUN_FILES, prepare_out_dir
from dialoggraph.train.checkpoint import load_model
from dialoggraph.train.metrics import summarize_seeds
from dialoggraph.train.trainer import Callback, TrainConfig, Trainer, resolve_optimizer

HEADER = "header.json"
"""What a run was trained on (:func:`run_header`), beside its ``config.yaml``."""


@dataclass
class RunResult:
    """What :func:`run` returns: the run folder and each seed's metrics (``val``, ``test``,
    ``best_epoch``, ...), with ``summary`` (mean and sample std over the seeds) for several."""

    out: str | None
    seeds: list[int]
    results: list[dict[str, Any]]
    summary: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    """The resolved run (``config.yaml``): model, seeds, data, model_config, train."""

    def folder(self, seed: int | None = None) -> str:
        """The folder of ``seed`` (default: the first): the run folder, or its ``seedN`` for several seeds."""
        if self.out is None:
            raise ValueError("this run was not written to a folder (out=None)")
        seed = self.seeds[0] if seed is None else seed
        if seed not in self.seeds:
            raise ValueError(f"seed {seed} is not one of the run's seeds {self.seeds}")
        return os.path.join(self.out, f"seed{seed}") if len(self.seeds) > 1 else self.out

    def checkpoint(self, seed: int | None = None) -> str:
        """The ``best.pt`` of ``seed`` (default: the first)."""
        return os.path.join(self.folder(seed), "best.pt")

    def load(self, seed: int | None = None, model_class: type | None = None,
             device: str = "cpu") -> DialogueModel:
        """The best dev epoch's model of ``seed``, in evaluation mode (:func:`~dialoggraph.load`)."""
        return load_model(self.checkpoint(seed), model_class, device)[0]


def run(model: type[DialogueModel] | str, data: DatasetConfig | dict[str, Any] | None = None, *,
        model_config: ModelConfig | dict[str, Any] | None = None, train: TrainConfig | dict[str, Any] | None = None,
        seeds: Sequence[int] | None = None, out: str | None = None, preset: str | None = None,
        overwrite: bool = False, resume: str | None = None, splits: Sequence | None = None,
        callbacks: Sequence[Callback] = (), where: str = "") -> RunResult:
    """Train ``model`` once per seed on ``data``, each seed dev-selected and its test split evaluated once.

    The run made here is the one ``dialoggraph train`` makes: ``OUT/config.yaml`` (the resolved
    run, which ``dialoggraph train --config`` repeats), ``OUT/header.json`` (what it trained
    on), a copy of the data's featurizers (a featurized folder), per seed ``OUT/seedN/`` (one
    seed: ``OUT`` itself) with ``best.pt``, ``last.pt``, ``log.jsonl``, ``metrics.json``, and
    ``OUT/summary.json`` (several seeds). Its checkpoints describe themselves (model, config,
    labels, widths, data, featurizers), so ``evaluate``, ``predict``, ``compare``, ``explain``,
    :func:`dialoggraph.load` and :class:`dialoggraph.Predictor` read them.

    The model config is checked before any data is loaded; its modalities, unless set, are
    the default ones the data has.

    Args:
        model: a model class, registered name or import path ``package.module:Class`` (a class
            defined in a notebook works; loading its checkpoints then needs the class).
        data: the dataset (:class:`~dialoggraph.datasets.factory.DatasetConfig` or its fields;
            default: the embedded synthetic set).
        model_config: the model's config or some of its fields (over the preset's).
        train: :class:`~dialoggraph.train.TrainConfig` or some of its fields (over the preset's).
        seeds: the seeds (default: ``train.seed``).
        out: the run folder (``None``: nothing is written).
        preset: a paper setting of the model (``Model.presets``): its config and schedule.
        overwrite: replace an earlier run in ``out`` (else it is refused).
        resume: continue the one-seed run of this ``last.pt`` (in its folder).
        splits: the (train, dev, test) datasets already loaded for this config (``tune`` keeps them).
        callbacks: more :class:`~dialoggraph.train.Callback` s for every seed's trainer.
        where: where the settings came from, for error messages.

    Example:
        >>> import dialoggraph
        >>> result = dialoggraph.run("mlp", {"dataset": "synthetic", "num_dialogues": 40},
        ...                          train={"epochs": 1, "quiet": True})
        >>> sorted(result.results[0])[:3]
        ['best_epoch', 'epochs_run', 'model']
    """
    cls = resolve_model(model)
    chosen = None
    if preset is not None:
        if preset not in cls.presets:
            raise ConfigError(f"{cls.__name__} has no preset {preset!r}; presets: {', '.join(cls.presets) or 'none'}")
        chosen = cls.presets[preset]
    model_values = {**(chosen.config if chosen else {}), **_values(model_config)}
    train_values = {**(chosen.train if chosen else {}), **_values(train)}
    config = from_dict(cls.Config, model_values, where)
    data = data if isinstance(data, DatasetConfig) else from_dict(DatasetConfig, dict(data or {}), where)
    train_config = from_dict(TrainConfig, train_values, where)
    seeds = list(seeds) if seeds is not None else [train_config.seed]
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds {seeds} repeat a seed: each seed is one run in OUT/seedN")
    main = distributed.is_main()
    if out and main and resume is None:
        check_out(out, overwrite)
    splits = list(splits) if splits is not None else \
        [load_dataset(data, split, cls.required_transform(config)) for split in ("train", "dev", "test")]
    if "modalities" not in model_values:
        config = cls.default_config(splits[0].modalities, **model_values)
    train_config = resolve_optimizer(train_config, cls)
    resolved = {"model": model_spec(cls), "seeds": seeds, "data": to_dict(data), "model_config": to_dict(config),
                "train": to_dict(train_config)}
    if main and out:
        header = run_header(cls, config, data, splits, train_config)
        if not train_config.quiet:
            print(f"dialoggraph: writing the run to {out}", file=sys.stderr)
            print(header_line(header), file=sys.stderr)
        atomic_write_yaml(os.path.join(out, "config.yaml"), resolved)
        atomic_write_json(os.path.join(out, HEADER), header)
        if data.dataset == "folder":
            keep_featurizers(data.root, out)
    results = []
    for seed in seeds:
        seed_out = os.path.join(out, f"seed{seed}") if out and len(seeds) > 1 else out
        seeded = replace(train_config, seed=seed)
        if main and seed_out and seed_out != out:
            os.makedirs(seed_out, exist_ok=True)
            atomic_write_yaml(os.path.join(seed_out, "config.yaml"), {**resolved, "seeds": [seed], "train": to_dict(seeded)})
        trainer = Trainer(cls, splits[0], splits[1], seeded, model_config=config, out_dir=seed_out,
                          overwrite=overwrite, resume=resume, run={"data": to_dict(data)}, callbacks=callbacks)
        results.append(trainer.fit(splits[2]))
    summary = None
    tested = [r["test"] for r in results if r.get("test")]
    if len(tested) > 1:
        summary = {"model": model_spec(cls), "seeds": seeds, "test": summarize_seeds(tested),
                   "val": summarize_seeds([r["val"] for r in results])}
        if main and out:
            atomic_write_json(os.path.join(out, "summary.json"), summary)
    return RunResult(out, seeds, results, summary, resolved)


def _values(config: Any) -> dict[str, Any]:
    """A config dataclass or a dict of fields as a dict of fields."""
    if config is None:
        return {}
    return to_dict(config) if not isinstance(config, dict) else dict(config)


def default_out(cls: type[DialogueModel]) -> str:
    """A new folder ``runs/<model>-<date>-<time>`` (numbered if taken)."""
    base = os.path.join("runs", f"{getattr(cls, 'name', None) or cls.__name__.lower()}-"
                                f"{time.strftime('%Y%m%d-%H%M%S')}")
    out, n = base, 1
    while os.path.exists(out):
        n += 1
        out = f"{base}-{n}"
    return out


def run_header(cls: type[DialogueModel], config, data: DatasetConfig, splits: list, train: TrainConfig) -> dict:
    """What a run trains on, said before it starts and kept in ``OUT/header.json``: the data and
    its splits' sizes, the modalities used and those the data has, the labels, the feature widths,
    the model and its parameter count, the device."""
    first = splits[0]
    with torch.device("meta"):          # counted, not allocated or initialised
        model = cls(first.meta["feature_dims"], first.num_classes, config)
    return {"data": {"dataset": data.dataset, "root": data.root},
            "splits": {name: {"dialogues": len(split), "utterances": sum(d["utterance"].num_nodes for d in split)}
                       for name, split in zip(("train", "dev", "test"), splits)},
            "modalities": list(config.modalities), "data_modalities": list(first.modalities),
            "labels": list(first.label_names),
            "feature_dims": {m: first.meta["feature_dims"][m] for m in config.modalities},
            "model": model_spec(cls), "parameters": sum(p.numel() for p in model.parameters()),
            "device": train.device}


def header_line(header: dict) -> str:
    """The header as one line for the console."""
    data = header["data"]["dataset"] + (f" {header['data']['root']}" if header["data"]["root"] else "")
    splits = ", ".join(f"{n} {s['dialogues']} dialogues / {s['utterances']} utterances"
                       for n, s in header["splits"].items())
    unused = [m for m in header["data_modalities"] if m not in header["modalities"]]
    modalities = ", ".join(f"{m} {header['feature_dims'][m]}-d" for m in header["modalities"]) + \
        (f" (not used: {', '.join(unused)})" if unused else "")
    return (f"dialoggraph: data {data}: {splits}; modalities {modalities}; labels {', '.join(header['labels'])}; "
            f"model {header['model']}, {header['parameters']:,} parameters; device {header['device']}")


def check_out(out: str, overwrite: bool) -> None:
    """Refuse an ``OUT`` that holds an earlier run (its config.yaml, summary, checkpoints or seed
    folders) or that cannot be written; ``overwrite`` removes the earlier run."""
    seeds = [f for f in os.listdir(out) if f.startswith("seed")] if os.path.isdir(out) else []
    prepare_out_dir(out, overwrite, resuming=False,
                    names=("config.yaml", "summary.json", HEADER, RECORD, STATE, *RUN_FILES, *seeds))
