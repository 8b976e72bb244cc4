"""``dialoggraph predict``: per-utterance predictions of a checkpoint to a CSV."""
from __future__ import annotations

import argparse
import csv
import io
from typing import Sequence

from dialoggraph.cli.evaluate import add_checkpoint_arguments, checkpoint_and_data
from dialoggraph.datasets.io import atomic_write
from dialoggraph.train.engine import predict


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("predict", help="per-utterance predictions to a CSV")
    add_checkpoint_arguments(p, "the CSV to write", True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    model, state, dataset = checkpoint_and_data(args)
    out = predict(model, dataset, device=args.device)
    names = state["label_names"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["dialogue", "utterance", "speaker", "label", "predicted"] + [f"p_{n}" for n in names])
    row = 0
    for dialogue, speakers in zip(out["dialogues"], out["speakers"]):
        for index, speaker in enumerate(speakers):
            y = int(out["y"][row])
            probs = out["probs"][row]
            writer.writerow([dialogue, index, speaker, names[y] if y >= 0 else "", names[int(probs.argmax())]]
                            + [f"{p:.6f}" for p in probs])
            row += 1
    atomic_write(args.out, lambda f: f.write(text.getvalue().encode()))
    print(f"wrote {row} predictions to {args.out}")
