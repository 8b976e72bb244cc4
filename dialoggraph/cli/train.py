"""``dialoggraph train``: fit a model over one or several seeds and report mean +- std."""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from typing import Any, Sequence

import torch

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, file_values, given, read_run_file, write_run_file
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import ConfigError, from_dict, to_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.io import atomic_write_json
from dialoggraph.features.pipeline import RECORD, STATE, keep_featurizers
from dialoggraph.models import MODELS, DialogueModel, model_spec, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.checkpoint import CheckpointError, load_checkpoint
from dialoggraph.train.engine import RUN_FILES, TrainConfig, Trainer, prepare_out_dir, resolve_optimizer
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
    p = sub.add_parser("train", help=COMMANDS["train"],
                       description="Train a model; options come from its typed configs (run "
                                   "'dialoggraph train --model NAME --help' for that model's).")
    p.add_argument("--config", help="a run file (YAML, or JSON): model, preset, seeds, out, data, model_config, "
                                    "train; flags override it. Every run writes its resolved config.yaml")
    p.add_argument("--model", help=f"a registered model ({', '.join(sorted(MODELS))}) or an import path "
                                   f"package.module:Class (default: {DEFAULT_MODEL})")
    p.add_argument("--preset", help="a paper setting of the model: model config and training schedule "
                                    f"({cls.__name__}: {', '.join(cls.presets) or 'none'})")
    p.add_argument("--seeds", type=int, nargs="+", help="several seeds (default: --seed); reports mean +- std")
    p.add_argument("--out", help="folder for checkpoints, log.jsonl, metrics.json and config.yaml "
                                 "(default: a new runs/MODEL-DATE-TIME)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--resume", help="continue the run of this last.pt (its model, data and settings; "
                                    "only --epochs, --patience, --device, --quiet, --curves, --tensorboard, --compile may change)")
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig)")
    add_config_options(p, TrainConfig, "train", "training (TrainConfig)")
    add_config_options(p, cls.Config, "model", f"model: {cls.__name__} ({cls.Config.__name__})")
    p.set_defaults(run=run)


RESUME_MAY_CHANGE = ("epochs", "patience", "device", "quiet", "curves", "tensorboard", "compile")


def run(args: argparse.Namespace) -> None:
    if args.resume:
        results = resume(args)
    else:
        results = fresh(args)
    if distributed.is_main():
        print_results(results)


def fresh(args: argparse.Namespace) -> list[dict]:
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
    if len(set(seeds)) != len(seeds):
        raise CLIError(f"seeds {seeds} repeat a seed: each seed is one run in OUT/seedN")
    out = args.out or run_file.get("out") or default_out(cls)
    return fit_seeds(cls, model_values, data, train, seeds, out, overwrite=args.overwrite, where=where)


def resume(args: argparse.Namespace) -> list[dict]:
    """Continue the run of a ``last.pt`` from the checkpoint's own model, data and settings."""
    state = load_checkpoint(args.resume)
    changed = [f"--{k.replace('_', '-')}" for section in ("model", "data") for k in given(args, section)] + \
        [f"--{k.replace('_', '-')}" for k in given(args, "train") if k not in RESUME_MAY_CHANGE] + \
        [flag for flag, value in (("--model", args.model), ("--config", args.config), ("--preset", args.preset),
                                  ("--seeds", args.seeds), ("--out", args.out)) if value]
    if changed:
        raise CLIError(f"--resume continues the run in {args.resume} as it was; it cannot change "
                       f"{', '.join(changed)} (only {', '.join('--' + k for k in RESUME_MAY_CHANGE)})")
    cls = resolve_model(state["model"])
    saved_data = (state.get("run") or {}).get("data")
    if saved_data is None:
        raise CheckpointError(f"{args.resume}: written before checkpoints recorded their data; "
                              f"train again to resume it")
    data = from_dict(DatasetConfig, saved_data, args.resume)
    train = from_dict(TrainConfig, {**state["train_config"], **given(args, "train")}, args.resume)
    return fit_seeds(cls, dict(state["model_config"]), data, train, [train.seed],
                     os.path.dirname(os.path.abspath(args.resume)), resume_from=args.resume, where=args.resume)


def default_out(cls: type[DialogueModel]) -> str:
    """A new folder ``runs/<model>-<date>-<time>`` (numbered if taken)."""
    base = os.path.join("runs", f"{getattr(cls, 'name', None) or cls.__name__.lower()}-"
                                f"{time.strftime('%Y%m%d-%H%M%S')}")
    out, n = base, 1
    while os.path.exists(out):
        n += 1
        out = f"{base}-{n}"
    return out


def fit_seeds(cls: type[DialogueModel], model_values: dict[str, Any], data: DatasetConfig, train: TrainConfig,
              seeds: list[int], out: str, *, overwrite: bool = False, resume_from: str | None = None,
              where: str = "") -> list[dict]:
    """Train ``cls`` once per seed on ``data``, dev-selected, each test split evaluated once.

    The model config is checked before any data is loaded; its modalities, unless set,
    are the default ones the data has. Writes ``OUT/config.yaml`` (the resolved run, which
    ``dialoggraph train --config`` repeats), per seed ``OUT/seedN/`` (several seeds) and
    ``OUT/summary.json`` (mean +- std). An ``OUT`` holding another run is refused unless
    ``overwrite``; ``resume_from`` continues the one-seed run of that ``last.pt`` in ``OUT``.
    """
    config = from_dict(cls.Config, model_values, where)
    main = distributed.is_main()
    if main and resume_from is None:
        check_out(out, overwrite)
    splits = [load_dataset(data, split, cls.required_transform(config)) for split in ("train", "dev", "test")]
    if "modalities" not in model_values:
        config = cls.default_config(splits[0].modalities, **model_values)
    train = resolve_optimizer(train, cls)
    resolved = {"model": model_spec(cls), "seeds": seeds, "data": to_dict(data), "model_config": to_dict(config),
                "train": to_dict(train)}
    if main:
        header = run_header(cls, config, data, splits, train)
        if not train.quiet:
            print(f"dialoggraph: writing the run to {out}", file=sys.stderr)
            print(header_line(header), file=sys.stderr)
        write_run_file(os.path.join(out, "config.yaml"), resolved)
        atomic_write_json(os.path.join(out, HEADER), header)
        if data.dataset == "folder":
            keep_featurizers(data.root, out)
    results = []
    for seed in seeds:
        seed_out = os.path.join(out, f"seed{seed}") if len(seeds) > 1 else out
        seeded = replace(train, seed=seed)
        if main and seed_out != out:
            write_run_file(os.path.join(seed_out, "config.yaml"),
                           {**resolved, "seeds": [seed], "train": to_dict(seeded)})
        trainer = Trainer(cls, splits[0], splits[1], seeded, model_config=config, out_dir=seed_out,
                          overwrite=overwrite, resume=resume_from, run={"data": to_dict(data)})
        results.append(trainer.fit(splits[2]))
    tested = [r["test"] for r in results if r.get("test")]
    if len(tested) > 1 and main:
        summary = {"model": model_spec(cls), "seeds": seeds, "test": summarize_seeds(tested),
                   "val": summarize_seeds([r["val"] for r in results])}
        atomic_write_json(os.path.join(out, "summary.json"), summary)
    return results


#: What a run was trained on (:func:`run_header`), beside its config.yaml.
HEADER = "header.json"


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


def print_results(results: list[dict]) -> None:
    """One line per seed, the last seed's per-class F1 and, for several seeds, mean +- std."""
    print(f"{'seed':>5} {'best epoch':>10} {'val wF1':>8} {'test acc':>9} {'test wF1':>9} {'test mF1':>9}")
    for r in results:
        t = r["test"] or {}
        cells = "".join(f" {t[k] * 100:9.2f}" if k in t else f" {'-':>9}"
                        for k in ("accuracy", "weighted_f1", "macro_f1"))
        print(f"{r['seed']:>5} {r['best_epoch']:>10} {r['val']['weighted_f1'] * 100:8.2f}{cells}")
    for note in results[-1].get("notes", []):
        print(f"note: {note}")
    if results[-1]["test"]:
        last = results[-1]["test"]["per_class_f1"]
        print("test F1 per class (last seed): " + ", ".join(f"{name} {f1 * 100:.1f}" for name, f1 in last.items()))
    tested = [r["test"] for r in results if r["test"]]
    if len(tested) > 1:
        summary = summarize_seeds(tested)
        print(f"\n{len(tested)} seeds, test: " + "  ".join(
            f"{k} {v['mean'] * 100:.2f} +- {v['std'] * 100:.2f}" for k, v in summary.items()))
