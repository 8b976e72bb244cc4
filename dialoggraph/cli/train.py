"""``dialoggraph train``: fit a model over one or several seeds and report mean +- std."""
from __future__ import annotations

import argparse
import os
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, file_values, given, read_run_file
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import ConfigError, from_dict
from dialoggraph.datasets.factory import DatasetConfig
from dialoggraph.models import MODELS, DialogueModel, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.checkpoint import CheckpointError, load_checkpoint
from dialoggraph.train.metrics import summarize_seeds
from dialoggraph.train.runner import default_out, run as run_seeds
from dialoggraph.train.trainer import TrainConfig

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
    try:
        # Layers: the config's defaults < the preset (in run) < the run file < the flags given.
        model_values = {**file_values(cls.Config, run_file.get("model_config") or {}), **given(args, "model")}
        train_values = {**file_values(TrainConfig, run_file.get("train") or {}), **given(args, "train")}
        data_values = {**file_values(DatasetConfig, run_file.get("data") or {}), **given(args, "data")}
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    data = from_dict(DatasetConfig, data_values, where)
    seeds = list(args.seeds or run_file.get("seeds") or [from_dict(TrainConfig, train_values, where).seed])
    if len(set(seeds)) != len(seeds):
        raise CLIError(f"seeds {seeds} repeat a seed: each seed is one run in OUT/seedN")
    out = args.out or run_file.get("out") or default_out(cls)
    return run_seeds(cls, data, model_config=model_values, train=train_values, seeds=seeds, out=out,
                     preset=args.preset or run_file.get("preset"), overwrite=args.overwrite, where=where).results


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
    return run_seeds(cls, data, model_config=dict(state["model_config"]), train=train, seeds=[train.seed],
                     out=os.path.dirname(os.path.abspath(args.resume)), resume=args.resume, where=args.resume).results


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
