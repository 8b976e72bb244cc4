"""``dialoggraph train``: fit a model over one or several seeds and report mean +- std."""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Any, Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, file_values, given, read_run_file, write_run_file
from dialoggraph.config import ConfigError, from_dict, to_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.datasets.io import atomic_write_json
from dialoggraph.models import MODELS, DialogueModel, model_spec, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.engine import TrainConfig, Trainer
from dialoggraph.train.metrics import summarize_seeds

DEFAULT_MODEL = "amb_dsgdn"


def _command(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def model_from_argv(argv: Sequence[str]) -> type[DialogueModel]:
    """The model whose options the parser shows: ``--model``, else the run file's, else the default."""
    if _command(argv) != "train":
        return resolve_model(DEFAULT_MODEL)
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--model")
    peek.add_argument("--config")
    known, _ = peek.parse_known_args(list(argv))
    spec = known.model or (read_run_file(known.config).get("model") if known.config else None)
    return resolve_model(spec or DEFAULT_MODEL)


def add_parser(sub, argv: Sequence[str]) -> None:
    cls = model_from_argv(argv)
    p = sub.add_parser("train", help="train a model (several seeds: mean +- std)",
                       description="Train a model; options come from its typed configs (run "
                                   "'dialoggraph train --model NAME --help' for that model's).")
    p.add_argument("--config", help="a run file (YAML, or JSON): model, preset, seeds, out, data, model_config, "
                                    "train; flags override it. Every run writes its resolved config.yaml")
    p.add_argument("--model", help=f"a registered model ({', '.join(sorted(MODELS))}) or an import path "
                                   f"package.module:Class (default: {DEFAULT_MODEL})")
    p.add_argument("--preset", help="a paper setting of the model: model config and training schedule "
                                    f"({cls.__name__}: {', '.join(cls.presets) or 'none'})")
    p.add_argument("--seeds", type=int, nargs="+", help="several seeds (default: --seed); reports mean +- std")
    p.add_argument("--out", help="folder for checkpoints, log.jsonl, metrics.json and config.yaml")
    p.add_argument("--resume", help="continue a run from its last.pt")
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig)")
    add_config_options(p, TrainConfig, "train", "training (TrainConfig)")
    add_config_options(p, cls.Config, "model", f"model: {cls.__name__} ({cls.Config.__name__})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    run_file = read_run_file(args.config) if args.config else {}
    where = args.config or "command line"
    cls = resolve_model(args.model or run_file.get("model") or DEFAULT_MODEL)
    preset = args.preset or run_file.get("preset")
    if preset is not None and preset not in cls.presets:
        raise ConfigError(f"{cls.__name__} has no preset {preset!r}; presets: {', '.join(cls.presets) or 'none'}")
    chosen = cls.presets[preset] if preset else None
    try:
        # Layers: the config's defaults < the preset < the run file < the flags given.
        model_values = {**(chosen.config if chosen else {}),
                        **file_values(cls.Config, run_file.get("model_config") or {}), **given(args, "model")}
        train_values = {**(chosen.train if chosen else {}),
                        **file_values(TrainConfig, run_file.get("train") or {}), **given(args, "train")}
        data_values = {**file_values(DatasetConfig, run_file.get("data") or {}), **given(args, "data")}
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    data = from_dict(DatasetConfig, data_values, where)
    train = from_dict(TrainConfig, train_values, where)
    seeds = list(args.seeds or run_file.get("seeds") or [train.seed])
    if args.resume and len(seeds) > 1:
        raise CLIError("--resume continues one run: give one seed")
    results = fit_seeds(cls, model_values, data, train, seeds, args.out or run_file.get("out"), args.resume, where)
    if distributed.is_main():
        print_results(results)


def fit_seeds(cls: type[DialogueModel], model_values: dict[str, Any], data: DatasetConfig, train: TrainConfig,
              seeds: list[int], out: str | None, resume: str | None = None, where: str = "") -> list[dict]:
    """Train ``cls`` once per seed on ``data``, dev-selected, each test split evaluated once.

    The model config is checked before any data is loaded; its modalities, unless set,
    are the default ones the data has. Writes ``OUT/config.yaml`` (the resolved run, which
    ``dialoggraph train --config`` repeats), per seed ``OUT/seedN/`` (several seeds) and
    ``OUT/summary.json`` (mean +- std).
    """
    config = from_dict(cls.Config, model_values, where)
    splits = [load_dataset(data, split, cls.required_transform(config)) for split in ("train", "dev", "test")]
    if "modalities" not in model_values:
        config = cls.default_config(splits[0].modalities, **model_values)
    train = replace(train, lr=train.lr if train.lr is not None else cls.optimizer["lr"],
                    weight_decay=train.weight_decay if train.weight_decay is not None
                    else cls.optimizer["weight_decay"])
    resolved = {"model": model_spec(cls), "seeds": seeds, "data": to_dict(data), "model_config": to_dict(config),
                "train": to_dict(train)}
    main = distributed.is_main()
    if out and main:
        write_run_file(os.path.join(out, "config.yaml"), resolved)
    results = []
    for seed in seeds:
        seed_out = os.path.join(out, f"seed{seed}") if out and len(seeds) > 1 else out
        seeded = replace(train, seed=seed)
        if seed_out and main and seed_out != out:
            write_run_file(os.path.join(seed_out, "config.yaml"),
                           {**resolved, "seeds": [seed], "train": to_dict(seeded)})
        trainer = Trainer(cls, splits[0], splits[1], seeded, model_config=config, out_dir=seed_out)
        if resume:
            trainer.resume(resume)
        results.append(trainer.fit(splits[2]))
    if len(results) > 1 and main:
        summary = {"model": model_spec(cls), "seeds": seeds, "test": summarize_seeds([r["test"] for r in results]),
                   "val": summarize_seeds([r["val"] for r in results])}
        if out:
            atomic_write_json(os.path.join(out, "summary.json"), summary)
    return results


def print_results(results: list[dict]) -> None:
    """One line per seed, the last seed's per-class F1 and, for several seeds, mean +- std."""
    print(f"{'seed':>5} {'best epoch':>10} {'val wF1':>8} {'test acc':>9} {'test wF1':>9} {'test mF1':>9}")
    for r in results:
        t = r["test"]
        print(f"{r['seed']:>5} {r['best_epoch']:>10} {r['val']['weighted_f1'] * 100:8.2f} "
              f"{t['accuracy'] * 100:9.2f} {t['weighted_f1'] * 100:9.2f} {t['macro_f1'] * 100:9.2f}")
    last = results[-1]["test"]["per_class_f1"]
    print("test F1 per class (last seed): " + ", ".join(f"{name} {f1 * 100:.1f}" for name, f1 in last.items()))
    if len(results) > 1:
        summary = summarize_seeds([r["test"] for r in results])
        print(f"\n{len(results)} seeds, test: " + "  ".join(
            f"{k} {v['mean'] * 100:.2f} +- {v['std'] * 100:.2f}" for k, v in summary.items()))
