"""The ``dialoggraph`` command line.

``dialoggraph inspect`` builds the relation graphs of a dataset's dialogues and
prints them. Errors are one line on stderr and exit code 2 (``--debug`` shows
the traceback).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from torch_geometric.transforms import Compose

from dialoggraph.data.dialogue import NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.graphs.relation import Relation
from dialoggraph.transforms import DAG, INTER, INTRA, DAGGraph, SpeakerWindowGraph

RELATION_MARK = {Relation.SELF: "o", Relation.INTRA_PAST: "s", Relation.INTRA_FUTURE: "S",
                 Relation.INTER_PAST: "c", Relation.INTER_FUTURE: "C"}


class CLIError(Exception):
    """A user error the CLI reports in one line."""


def load_dataset(name: str, root: str | None, split: str, pre_transform, **kwargs):
    """The dataset named on the command line (``synthetic``, ``meld``, ``folder``)."""
    from dialoggraph.datasets import MELD, DialogueFolder, SyntheticDialogues
    if name == "synthetic":
        return SyntheticDialogues(kwargs.get("num_dialogues", 400), split,
                                  seed=kwargs.get("seed", 0), pre_transform=pre_transform)
    if root is None:
        raise CLIError(f"--root is required for --dataset {name}")
    if name == "meld":
        return MELD(root, split, text_features=kwargs.get("text_features", "tfidf"),
                    pre_transform=pre_transform)
    if name == "folder":
        return DialogueFolder(root, split, pre_transform=pre_transform)
    raise CLIError(f"unknown dataset {name!r}")


def relation_matrix(data) -> list[str]:
    """Rows of marks: row i, column j shows the relation of edge j -> i (intra/inter stores)."""
    n = data[NODE].num_nodes
    grid = [["." for _ in range(n)] for _ in range(n)]
    for store in (INTRA, INTER):
        src, dst = data[store].edge_index.tolist()
        for j, i, r in zip(src, dst, data[store].edge_rel.tolist()):
            grid[i][j] = RELATION_MARK[Relation(r)]
    return ["".join(row) for row in grid]


def cmd_inspect(args: argparse.Namespace) -> None:
    pre = Compose([SpeakerWindowGraph(args.past, args.future), DAGGraph(args.dag_window)])
    dataset = load_dataset(args.dataset, args.root, args.split, pre, num_dialogues=max(args.num, 1))
    print(f"{dataset!r}: labels {', '.join(dataset.label_names)}; modalities "
          f"{', '.join(dataset.modalities)}")
    print("marks: o self, s/S intra-speaker past/future, c/C inter-speaker past/future "
          "(row = target, column = source)")
    for data in list(dataset)[:args.num]:
        store = data[NODE]
        n = store.num_nodes
        print(f"\ndialogue {data.dialogue_id}: {n} utterances, speakers "
              f"{', '.join(data.speaker_names)}; edges: intra {data[INTRA].num_edges}, inter "
              f"{data[INTER].num_edges}, dag {data[DAG].num_edges}")
        labels = [dataset.label_names[y] if y >= 0 else "-" for y in store.y.tolist()]
        rows = relation_matrix(data) if n <= args.max_matrix else [""] * n
        for i in range(n):
            preds = data[DAG].edge_index[0][data[DAG].edge_index[1] == i].tolist()
            print(f"  {i:3d} {data.speaker_names[int(store.speaker[i])][:12]:>12} "
                  f"{labels[i]:>9}  {rows[i]}  dag<-{preds}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dialoggraph", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="build and print the dialogue graphs of a dataset")
    p.add_argument("--dataset", default="synthetic", choices=["synthetic", "meld", "folder"])
    p.add_argument("--root", help="data folder (meld, folder)")
    p.add_argument("--split", default="train", choices=["train", "dev", "test"])
    p.add_argument("--num", type=int, default=2, help="how many dialogues to print")
    p.add_argument("--past", type=int, default=5)
    p.add_argument("--future", type=int, default=5)
    p.add_argument("--dag-window", type=int, default=1)
    p.add_argument("--max-matrix", type=int, default=40, help="print the relation matrix up to this length")
    p.set_defaults(func=cmd_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (CLIError, DialogueValidationError, FileNotFoundError, ValueError) as exc:
        if args.debug:
            raise
        print(f"dialoggraph: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
