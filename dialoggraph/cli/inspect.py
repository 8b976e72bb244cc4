"""``dialoggraph inspect``: build and print the dialogue graphs of a dataset."""
from __future__ import annotations

import argparse
from typing import Sequence

from torch_geometric.transforms import Compose

from dialoggraph.cli.options import add_config_options, given
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import from_dict
from dialoggraph.data.dialogue import DAG, INTER, INTRA, NODE
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.graphs.relation import Relation
from dialoggraph.transforms import DAGGraph, SpeakerWindowGraph

RELATION_MARK = {Relation.SELF: "o", Relation.INTRA_PAST: "s", Relation.INTRA_FUTURE: "S",
                 Relation.INTER_PAST: "c", Relation.INTER_FUTURE: "C"}


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("inspect", help=COMMANDS["inspect"])
    p.add_argument("--split", default="train", choices=["train", "dev", "test"], help="the split whose dialogues are shown")
    p.add_argument("--num", type=int, default=2, help="how many dialogues to print")
    p.add_argument("--past", type=int, default=5, help="speaker window: earlier utterances")
    p.add_argument("--future", type=int, default=5, help="speaker window: later utterances")
    p.add_argument("--dag-window", type=int, default=1, help="DAG: same-speaker turns back")
    p.add_argument("--max-matrix", type=int, default=40, help="print the relation matrix up to this length")
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig)")
    p.set_defaults(run=run)


def relation_matrix(data) -> list[str]:
    """Rows of marks: row i, column j shows the relation of edge j -> i (intra/inter stores)."""
    n = data[NODE].num_nodes
    grid = [["." for _ in range(n)] for _ in range(n)]
    for store in (INTRA, INTER):
        src, dst = data[store].edge_index.tolist()
        for j, i, r in zip(src, dst, data[store].edge_rel.tolist()):
            grid[i][j] = RELATION_MARK[Relation(r)]
    return ["".join(row) for row in grid]


def run(args: argparse.Namespace) -> None:
    values = given(args, "data")
    if values.get("dataset", "synthetic") == "synthetic":
        values.setdefault("num_dialogues", max(args.num, 1))
    data = from_dict(DatasetConfig, values)
    dataset = load_dataset(data, args.split, Compose([SpeakerWindowGraph(args.past, args.future),
                                                      DAGGraph(args.dag_window)]))
    print(f"{dataset!r}: labels {', '.join(dataset.label_names)}; modalities {', '.join(dataset.modalities)}")
    print("marks: o self, s/S intra-speaker past/future, c/C inter-speaker past/future "
          "(row = target, column = source)")
    for data in list(dataset)[:args.num]:
        store = data[NODE]
        n = store.num_nodes
        print(f"\ndialogue {data.dialogue_id}: {n} utterances, speakers {', '.join(data.speaker_names)}; "
              f"edges: intra {data[INTRA].num_edges}, inter {data[INTER].num_edges}, dag {data[DAG].num_edges}")
        labels = [dataset.label_names[y] if y >= 0 else "-" for y in store.y.tolist()]
        rows = relation_matrix(data) if n <= args.max_matrix else [""] * n
        for i in range(n):
            preds = data[DAG].edge_index[0][data[DAG].edge_index[1] == i].tolist()
            print(f"  {i:3d} {data.speaker_names[int(store.speaker[i])][:12]:>12} "
                  f"{labels[i]:>9}  {rows[i]}  dag<-{preds}")
