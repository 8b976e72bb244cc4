"""``dialoggraph predict``: per-utterance predictions of a checkpoint to a CSV, on a split of its
data or on raw input (``--transcripts``: a transcript table and its media, featurized with the
featurizers the model was trained with). The work is :class:`dialoggraph.Predictor`'s."""
from __future__ import annotations

import argparse
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.evaluate import add_checkpoint_arguments, checkpoint_and_data
from dialoggraph.cli.featurize import add_engine_arguments
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.features.pipeline import RECORD
from dialoggraph.train.evaluation import resolve_device
from dialoggraph.train.inference import Predictor


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("predict", help=COMMANDS["predict"])
    add_checkpoint_arguments(p, "the CSV to write", True)
    p.add_argument("--transcripts", help="predict on this transcript table (and its media) instead of a data "
                                         "split: featurized with the featurizers the model was trained with")
    p.add_argument("--encoding", default="utf-8", help="with --transcripts: its text encoding (default: utf-8)")
    p.add_argument("--media-root", help="with --transcripts: the folder media paths are relative to "
                                        "(default: the CSV's folder)")
    add_engine_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    args.device = resolve_device(args.device)
    if args.transcripts:
        predictor = Predictor.from_checkpoint(args.checkpoint, device=args.device)
        if predictor.featurizers is None:
            raise CLIError(f"{args.checkpoint}: no {RECORD} beside it or in its data folder: --transcripts needs "
                           f"a model trained on a folder made by dialoggraph featurize")
        try:
            out = predictor.predict(args.transcripts, args.media_root, args.encoding, engine=args.engine,
                                    address=args.address, workers=args.workers)
        except DialogueValidationError as exc:
            raise CLIError(f"{args.checkpoint} on {args.transcripts}: {exc}") from None
    else:
        if args.engine != "local" or args.address or args.workers:
            raise CLIError("--engine, --address and --workers say how raw input is featurized: they need --transcripts")
        model, state, dataset = checkpoint_and_data(args)
        out = Predictor(model, state, device=args.device).predict_dataset(dataset)
    out.to_csv(args.out)
    print(f"wrote {len(out)} predictions to {args.out}")
