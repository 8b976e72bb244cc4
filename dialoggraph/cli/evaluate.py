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
from dialoggraph.datasets.io import atomic_write_json
from dialoggraph.models import resolve_model
from dialoggraph.train.engine import check_compatible, evaluate, model_from_checkpoint


def add_checkpoint_arguments(p: argparse.ArgumentParser, out_help: str, out_required: bool) -> None:
    """The options evaluate and predict share: checkpoint, data, split, device, output."""
    p.add_argument("--checkpoint", required=True, help="a best.pt / last.pt written by train")
    p.add_argument("--split", default="test", choices=["train", "dev", "test"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=out_required, help=out_help)
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig; default: the run's config.yaml beside "
                                                 "the checkpoint, else the synthetic data)")


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("evaluate", help="metrics of a checkpoint on a split")
    add_checkpoint_arguments(p, "write the metrics to this JSON file", False)
    p.set_defaults(run=run)


def checkpoint_and_data(args: argparse.Namespace):
    """The checkpoint's model (eval mode), the checkpoint, and the split it is asked about.

    The data is the run's (``config.yaml`` beside the checkpoint), overridden by the flags given."""
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    run_file = os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "config.yaml")
    saved = read_run_file(run_file).get("data") or {} if os.path.exists(run_file) else {}
    data = from_dict(DatasetConfig, {**file_values(DatasetConfig, saved), **given(args, "data")}, run_file)
    dataset = load_dataset(data, args.split, resolve_model(state["model"]).required_transform(model.config))
    check_compatible(state, None, dataset.label_names, args.checkpoint)
    missing = [m for m in model.modalities if m not in dataset.modalities]
    if missing:
        raise CLIError(f"{args.checkpoint}: the model reads {', '.join(missing)}, which the data lacks")
    return model, state, dataset


def run(args: argparse.Namespace) -> None:
    model, state, dataset = checkpoint_and_data(args)
    metrics = {args.split: evaluate(model, dataset, state["label_names"], device=args.device)}
    if args.out:
        atomic_write_json(args.out, metrics)
    print(json.dumps(metrics, indent=1))
