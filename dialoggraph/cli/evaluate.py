"""``dialoggraph evaluate``: the metrics of a checkpoint on one split."""
from __future__ import annotations

import argparse
import json
import os
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, file_values, given, read_run_file
from dialoggraph.config import from_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.io import atomic_write_json
from dialoggraph.models import resolve_model
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.train.engine import check_split, evaluate, labelled_count, model_from_checkpoint


def add_checkpoint_arguments(p: argparse.ArgumentParser, out_help: str, out_required: bool) -> None:
    """The options evaluate and predict share: checkpoint, data, split, device, output."""
    p.add_argument("--checkpoint", required=True, help="a best.pt / last.pt written by train")
    p.add_argument("--split", default="test", choices=["train", "dev", "test"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=out_required, help=out_help)
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig; default: the data the checkpoint was "
                                                 "trained on, with its featurizers)")


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("evaluate", help="metrics of a checkpoint on a split")
    add_checkpoint_arguments(p, "write the metrics to this JSON file", False)
    p.set_defaults(run=run)


def checkpoint_and_data(args: argparse.Namespace):
    """The checkpoint's model (eval mode), the checkpoint, and the split it is asked about.

    The data is the one the checkpoint was trained on (recorded in it; for older checkpoints
    the run's ``config.yaml`` beside it), overridden by the data options given, and checked
    against the model (modalities, feature widths, labels) before anything runs."""
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    saved = (state.get("run") or {}).get("data")
    run_file = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "config.yaml")
    if saved is None and os.path.exists(run_file):
        saved = read_run_file(run_file).get("data")
    data = from_dict(DatasetConfig, {**file_values(DatasetConfig, saved or {}), **given(args, "data")},
                     args.checkpoint)
    dataset = load_dataset(data, args.split, resolve_model(state["model"]).required_transform(model.config))
    try:
        check_split(dataset, args.split, model, state["label_names"], labelled=False)
    except DialogueValidationError as exc:
        raise CLIError(f"{args.checkpoint} on {data.dataset} {args.split}: {exc}") from None
    return model, state, dataset


def run(args: argparse.Namespace) -> None:
    model, state, dataset = checkpoint_and_data(args)
    if not labelled_count(dataset):
        raise CLIError(f"the {args.split} split has no labels: nothing to evaluate (predict gives predictions)")
    metrics = {args.split: evaluate(model, dataset, state["label_names"], device=args.device)}
    if args.out:
        atomic_write_json(args.out, metrics)
    print(json.dumps(metrics, indent=1))
