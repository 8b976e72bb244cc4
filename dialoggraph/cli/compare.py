"""``dialoggraph compare``: runs side by side, mean +- std over seeds and a paired bootstrap test."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

from dialoggraph.analysis.compare import METRICS, SeedPredictions, compare_runs, comparison_markdown
from dialoggraph.analysis.figures import comparison_figure
from dialoggraph.plotting import save_figure
from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.evaluate import load_checkpoint_split
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.io import atomic_write, atomic_write_json
from dialoggraph.train.checkpoint import load_checkpoint
from dialoggraph.train.evaluation import predict


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("compare", help=COMMANDS["compare"])
    p.add_argument("runs", nargs="+", metavar="RUN_DIR",
                   help="folders written by train (with --seeds: seed*/best.pt; without: best.pt); the first "
                        "is the reference of the significance test")
    p.add_argument("--names", nargs="+", help="a name per run (default: the folder names)")
    p.add_argument("--split", default="test", choices=["dev", "test"], help="the split the runs are compared on")
    p.add_argument("--metric", default="weighted_f1", choices=METRICS, help="the metric tested")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples of the dialogues")
    p.add_argument("--out", metavar="DIR", help="write compare.md, compare.json and compare.png/.svg here")
    p.add_argument("--device", default="cpu", help="where the models run (cpu, cuda, ...)")
    p.set_defaults(run=run)


def seed_checkpoints(run_dir: str) -> list[str]:
    """The ``best.pt`` of each seed of a ``train`` run folder (or the folder's own)."""
    summary = os.path.join(run_dir, "summary.json")
    if os.path.exists(summary):
        with open(summary) as f:
            paths = [os.path.join(run_dir, f"seed{s}", "best.pt") for s in json.load(f)["seeds"]]
    elif os.path.exists(os.path.join(run_dir, "best.pt")):
        paths = [os.path.join(run_dir, "best.pt")]
    else:
        raise CLIError(f"{run_dir}: not a train run folder (no summary.json, no best.pt)")
    for path in paths:
        if not os.path.exists(path):
            raise CLIError(f"{path}: missing (an unfinished run?)")
    return paths


def run_predictions(run_dir: str, split: str, device: str) -> tuple[list[SeedPredictions], list[str]]:
    """Each seed's predictions on ``split`` of the data it was trained on, and the label names."""
    seeds, names = [], None
    for path in seed_checkpoints(run_dir):
        model, state, dataset = load_checkpoint_split(path, split, device)
        if names is not None and list(state["label_names"]) != names:
            raise CLIError(f"{path}: labels {state['label_names']} differ from the run's other seeds")
        names = list(state["label_names"])
        out = predict(model, dataset, device=device)
        seeds.append(SeedPredictions(out["dialogues"], [len(s) for s in out["speakers"]], out["y"],
                                     out["probs"].argmax(-1)))
    return seeds, names


def trained_on(run_dir: str) -> dict:
    """What a run was trained on, from its first seed's checkpoint: ``data`` (the dataset options,
    paths resolved, the cache folder left out) and ``modalities``."""
    state = load_checkpoint(seed_checkpoints(run_dir)[0])
    data = dict((state.get("run") or {}).get("data") or {})
    data.pop("cache_dir", None)
    for key in ("root", "raw_root"):
        if data.get(key):
            data[key] = os.path.realpath(data[key])
    return {"data": data, "modalities": list(state["model_config"].get("modalities") or [])}


def check_same_data(trained_on: dict[str, dict]) -> list[str]:
    """Refuse runs trained on other data than the first (dataset options differ); the warnings to
    show when their modalities differ."""
    (first, reference), *others = trained_on.items()
    for name, other in others:
        if other["data"] and reference["data"] and other["data"] != reference["data"]:
            changed = sorted(k for k in set(other["data"]) | set(reference["data"])
                             if other["data"].get(k) != reference["data"].get(k))
            raise CLIError(f"{name} was trained on other data than {first} ("
                           + "; ".join(f"{k}: {reference['data'].get(k)!r} vs {other['data'].get(k)!r}"
                                       for k in changed) + "): a comparison needs the same data")
    modalities = {name: ", ".join(t["modalities"]) for name, t in trained_on.items()}
    if len(set(modalities.values())) > 1:
        return ["the runs use different modalities: " + "; ".join(f"{n} {m}" for n, m in modalities.items())]
    return []


def run(args: argparse.Namespace) -> None:
    if args.bootstrap < 1:
        raise CLIError(f"--bootstrap must be at least 1, got {args.bootstrap}")
    names = args.names or [os.path.basename(os.path.normpath(r)) for r in args.runs]
    if len(names) != len(args.runs):
        raise CLIError(f"{len(names)} names for {len(args.runs)} runs")
    if len(set(names)) != len(names):
        raise CLIError("run names must differ (give --names)")
    data = {name: trained_on(run_dir) for name, run_dir in zip(names, args.runs)}
    warnings = check_same_data(data)                    # before any prediction is made
    runs, labels = {}, None
    for name, run_dir in zip(names, args.runs):
        runs[name], run_labels = run_predictions(run_dir, args.split, args.device)
        if labels is not None and run_labels != labels:
            raise CLIError(f"{run_dir}: labels {run_labels} differ from {args.runs[0]}'s {labels}")
        labels = run_labels
    try:
        rows = compare_runs(runs, len(labels), args.metric, args.bootstrap)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    table = comparison_markdown(rows, args.metric) + "".join(f"\n\nWarning: {w}." for w in warnings)
    for warning in warnings:
        print(f"dialoggraph: warning: {warning}", file=sys.stderr)
    print(table)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        atomic_write_json(os.path.join(args.out, "compare.json"),
                          {"split": args.split, "metric": args.metric, "runs": dict(zip(names, args.runs)),
                           "trained_on": data, "warnings": warnings, "rows": rows})
        atomic_write(os.path.join(args.out, "compare.md"), lambda f: f.write((table + "\n").encode()))
        save_figure(comparison_figure(rows, args.metric), os.path.join(args.out, "compare"))
