"""``dialoggraph explain``: one dialogue's relation graph with the model's attention weights (or
its gates), gold and predicted labels, as a figure and a printed table."""
from __future__ import annotations

import argparse
import os
from typing import Sequence

from dialoggraph.analysis.explain import explain_dialogue, explanation_figure, strongest_sources
from dialoggraph.plotting import save_figure
from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.evaluate import add_checkpoint_arguments, checkpoint_and_data
from dialoggraph.cli.parser import COMMANDS


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("explain", help=COMMANDS["explain"])
    add_checkpoint_arguments(p, "the figure to write (FILE.png, and FILE.svg beside it; default: "
                                "explain-<dialogue>.png)", False)
    p.add_argument("--dialogue", required=True, help="the dialogue's id (as predict writes it)")
    p.add_argument("--top", type=int, default=3, help="strongest incoming edges printed per utterance")
    p.set_defaults(run=run)


def find_dialogue(dataset, dialogue_id: str):
    """The dialogue of ``dataset`` with this id, or one line naming some that exist."""
    ids = [d.dialogue_id for d in dataset]
    if dialogue_id not in ids:
        raise CLIError(f"no dialogue {dialogue_id!r} in this split ({len(ids)} dialogues, e.g. "
                       f"{', '.join(map(repr, ids[:5]))})")
    return dataset[ids.index(dialogue_id)]


def run(args: argparse.Namespace) -> None:
    model, state, dataset = checkpoint_and_data(args)
    explanation = explain_dialogue(model, find_dialogue(dataset, args.dialogue), state["label_names"], args.device)
    stem = os.path.splitext(args.out or f"explain-{args.dialogue}.png")[0]
    if os.path.dirname(stem):
        os.makedirs(os.path.dirname(stem), exist_ok=True)
    paths = save_figure(explanation_figure(explanation), stem)
    first = next(iter(explanation["edges"]), None)
    sources = strongest_sources(explanation, first, args.top) if first else None
    print(f"dialogue {args.dialogue}: {len(explanation['speakers'])} utterances"
          + (f"; strongest incoming edges of {first!r} as source:weight" if first else ""))
    for i, (who, gold, pred) in enumerate(zip(explanation["speakers"], explanation["gold"], explanation["predicted"])):
        mark = "" if gold in (None, pred) else "  x"
        edges = "  " + " ".join(f"{j}:{w:+.3f}" for j, w in sources[i]) if sources else ""
        print(f"  {i:3d} {who[:14]:>14} gold {gold or '-':>9} predicted {pred:>9}{mark}{edges}")
    print(f"wrote {', '.join(paths)}")
