"""``dialoggraph evaluate``: the metrics of a checkpoint on one split; with ``--report DIR`` the whole
evaluation report (:mod:`dialoggraph.analysis.report`), with ``--without M`` the metrics with a
modality removed."""
from __future__ import annotations

import argparse
import json
import os
from typing import Sequence

from dialoggraph.analysis.report import SNRS, evaluation_report, write_report
from dialoggraph.analysis.robustness import removed
from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, file_values, given, read_run_file
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import from_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.io import atomic_write_json
from dialoggraph.models import resolve_model
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.train.checkpoint import load_model
from dialoggraph.train.evaluation import check_split, labelled_count, predict, resolve_device
from dialoggraph.train.metrics import classification_metrics


def add_checkpoint_arguments(p: argparse.ArgumentParser, out_help: str, out_required: bool) -> None:
    """The options evaluate and predict share: checkpoint, data, split, device, output."""
    p.add_argument("--checkpoint", required=True, help="a best.pt / last.pt written by train")
    p.add_argument("--split", default="test", choices=["train", "dev", "test"], help="the split to use")
    p.add_argument("--device", default="cpu", help="where the model runs (cpu, cuda, cuda:1, ..., or auto: cuda "
                                                   "when torch sees a GPU)")
    p.add_argument("--out", required=out_required, help=out_help)
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig; default: the data the checkpoint was "
                                                 "trained on, with its featurizers)")


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("evaluate", help=COMMANDS["evaluate"])
    add_checkpoint_arguments(p, "write the metrics to this JSON file", False)
    p.add_argument("--report", metavar="DIR", help="write report.md, report.html, metrics.json and figures "
                                                   "(PNG, SVG) to DIR: per class with bootstrap intervals, "
                                                   "confusion, emotion shift, length, position, robustness")
    p.add_argument("--snr", type=float, nargs="+", default=list(SNRS), metavar="DB",
                   help="with --report: signal-to-noise ratios (dB) of the noise curves")
    p.add_argument("--bootstrap", type=int, default=1000, help="with --report: resamples of the dialogues")
    p.add_argument("--no-robustness", action="store_true", help="with --report: skip the noise and "
                                                                "missing-modality passes")
    p.add_argument("--without", metavar="MODALITY", help="evaluate with this modality's features removed "
                                                         "(models that run without it, e.g. AMB-DSGDN)")
    p.set_defaults(run=run)


def checkpoint_and_data(args: argparse.Namespace):
    """``load_checkpoint_split`` with the command's checkpoint, split, device and data options."""
    args.device = resolve_device(args.device)
    return load_checkpoint_split(args.checkpoint, args.split, args.device, given(args, "data"))


def load_checkpoint_split(checkpoint: str, split: str, device: str = "cpu", data_values: dict | None = None):
    """The checkpoint's model (eval mode), the checkpoint, and the split it is asked about.

    The data is the one the checkpoint was trained on (recorded in it; for older checkpoints
    the run's ``config.yaml`` beside it), overridden by ``data_values``, and checked
    against the model (modalities, feature widths, labels) before anything runs."""
    model, state = load_model(checkpoint, device=device)
    saved = (state.get("run") or {}).get("data")
    run_file = os.path.join(os.path.dirname(os.path.abspath(checkpoint)), "config.yaml")
    if saved is None and os.path.exists(run_file):
        saved = read_run_file(run_file).get("data")
    data = from_dict(DatasetConfig, {**file_values(DatasetConfig, saved or {}), **(data_values or {})}, checkpoint)
    dataset = load_dataset(data, split, resolve_model(state["model"]).required_transform(model.config))
    try:
        check_split(dataset, split, model, state["label_names"], labelled=False)
    except DialogueValidationError as exc:
        raise CLIError(f"{checkpoint} on {data.dataset} {split}: {exc}") from None
    return model, state, dataset


def run(args: argparse.Namespace) -> None:
    if args.bootstrap < 1:
        raise CLIError(f"--bootstrap must be at least 1, got {args.bootstrap}")
    if args.report and args.without:
        raise CLIError("--report already evaluates every modality removed; give --report or --without")
    model, state, dataset = checkpoint_and_data(args)
    if not labelled_count(dataset):
        raise CLIError(f"the {args.split} split has no labels: nothing to evaluate (predict gives predictions)")
    names = state["label_names"]
    if args.report:
        report = evaluation_report(model, dataset, names, device=args.device, snrs=args.snr,
                                   bootstrap=args.bootstrap, robustness=not args.no_robustness)
        report["meta"].update(checkpoint=os.path.abspath(args.checkpoint), split=args.split,
                              data=f"the {args.split} split of {dataset!r}")
        paths = write_report(report, args.report, f"{state['model']} on {args.split}")
        metrics = {args.split: {k: report["overall"][k] for k in ("accuracy", "weighted_f1", "macro_f1")}}
        print(f"wrote {len(paths)} files to {args.report} (report.html, report.md, metrics.json, figures)")
    else:
        perturb = None
        if args.without:
            try:
                perturb = removed(model, args.without)
            except ValueError as exc:
                raise CLIError(str(exc)) from None
        out = predict(model, dataset, device=args.device, perturb=perturb)
        metrics = {args.split: classification_metrics(out["y"], out["probs"].argmax(-1), names)}
        if args.without:
            metrics[args.split]["without"] = args.without
    if args.out:
        atomic_write_json(args.out, metrics)
    print(json.dumps(metrics, indent=1))
