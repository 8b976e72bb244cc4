"""``dialoggraph reproduce MODEL DATASET``: a paper's setting on its feature files, 5 seeds,
dev-selected, the paper's figure printed beside the measured one."""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import from_dict
from dialoggraph.datasets.factory import DatasetConfig
from dialoggraph.io import atomic_write_json
from dialoggraph.models import MODELS, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.metrics import summarize_seeds
from dialoggraph.train.runner import run as run_seeds
from dialoggraph.train.trainer import TrainConfig


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("reproduce", help=COMMANDS["reproduce"],
                       description="Run MODEL's paper setting for DATASET (its preset and training schedule) on "
                                   "the community feature files it trains on, over 5 seeds selected on dev, and "
                                   "print the paper's test figure beside the measured mean +- std.")
    p.add_argument("model", nargs="?", help="a registered model (see --list)")
    p.add_argument("dataset", nargs="?", help="iemocap or meld")
    p.add_argument("--list", action="store_true", help="every (model, dataset) pair with the paper's figure")
    p.add_argument("--root", help="folder holding the feature files (default: data/DATASET)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="the seeds of the runs")
    p.add_argument("--out", help="folder for the runs and reproduce.json (default: runs/reproduce/MODEL-DATASET)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier reproduction in --out")
    p.add_argument("--epochs", type=int, help="change the paper's number of epochs (the report says so)")
    p.add_argument("--device", default="cpu", help="where the models train (cpu, cuda, ...)")
    p.add_argument("--cache-dir", help="where processed datasets are cached")
    p.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    p.set_defaults(run=run)


def settings() -> list[tuple[str, str]]:
    """Every (model, dataset) pair with a paper figure and feature files."""
    return [(name, dataset) for name in sorted(MODELS) for dataset, preset in sorted(MODELS[name].presets.items())
            if preset.paper is not None and preset.features is not None]


def print_list() -> None:
    print(f"{'model':10} {'dataset':8} {'paper wF1':>9} {'paper acc':>9}  {'where':8} features")
    for name, dataset in settings():
        preset = MODELS[name].presets[dataset]
        paper, files = preset.paper, preset.features
        acc = f"{paper.accuracy:9.2f}" if paper.accuracy is not None else f"{'-':>9}"
        print(f"{name:10} {dataset:8} {paper.weighted_f1:9.2f} {acc}  {paper.where:8} "
              f"{files.layout}: {', '.join(files.files)}")


def run(args: argparse.Namespace) -> None:
    if args.list:
        print_list()
        return
    if not args.model or not args.dataset:
        raise CLIError("reproduce needs MODEL and DATASET (or --list)")
    cls = resolve_model(args.model)
    preset = cls.presets.get(args.dataset)
    if preset is None or preset.paper is None or preset.features is None:
        pairs = ", ".join(f"{m} {d}" for m, d in settings())
        raise CLIError(f"no paper setting to reproduce for {args.model} {args.dataset}; there are: {pairs}")
    files = preset.features
    root = args.root or os.path.join("data", args.dataset)
    paths = [os.path.join(root, f) for f in files.files]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise CLIError(f"reproduce {args.model} {args.dataset} needs {', '.join(missing)}: get "
                       f"{'it' if len(missing) == 1 else 'them'} from {files.source} and put "
                       f"{'it' if len(missing) == 1 else 'them'} in {root}/ (or pass --root FOLDER)")
    data = DatasetConfig(dataset="pickle", root=paths[0] if files.layout == "mmgcn" else root, layout=files.layout,
                         labels=files.labels, cache_dir=args.cache_dir)
    train = from_dict(TrainConfig, {**preset.train, "device": args.device, "quiet": args.quiet})
    if args.epochs is not None:
        train = replace(train, epochs=args.epochs)
    out = args.out or os.path.join("runs", "reproduce", f"{args.model}-{args.dataset}")
    results = run_seeds(cls, data, model_config=dict(preset.config), train=train, seeds=list(args.seeds), out=out,
                        overwrite=args.overwrite).results
    if not distributed.is_main():
        return
    measured = summarize_seeds([r["test"] for r in results])
    report = {"model": args.model, "dataset": args.dataset, "preset": preset.description,
              "paper": {"weighted_f1": preset.paper.weighted_f1, "accuracy": preset.paper.accuracy,
                        "where": preset.paper.where},
              "measured": {k: {"mean": v["mean"] * 100, "std": v["std"] * 100, "values": [x * 100 for x in v["values"]]}
                           for k, v in measured.items()},
              "seeds": list(args.seeds), "epochs": train.epochs, "schedule_changed": args.epochs is not None}
    atomic_write_json(os.path.join(out, "reproduce.json"), report)
    w, a = report["measured"]["weighted_f1"], report["measured"]["accuracy"]
    print(f"{args.model} on {args.dataset} ({preset.description}; test split, model selected on dev):")
    print(f"  paper ({preset.paper.where}): weighted F1 {preset.paper.weighted_f1:.2f}"
          + (f", accuracy {preset.paper.accuracy:.2f}" if preset.paper.accuracy is not None else ""))
    print(f"  measured, {len(results)} seeds: weighted F1 {w['mean']:.2f} +- {w['std']:.2f}, "
          f"accuracy {a['mean']:.2f} +- {a['std']:.2f}" + (f"  (epochs changed to {train.epochs})"
                                                          if args.epochs is not None else ""))
