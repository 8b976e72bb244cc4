"""A picture of a dialogue's relation edges (networkx + the optional matplotlib)."""
from __future__ import annotations

from typing import Any

import networkx as nx
from torch_geometric.data import HeteroData

from dialoggraph.extras import require
from dialoggraph.graphs.relation import Relation

STYLE = {  # relation -> (colour, line style, label)
    Relation.INTRA_PAST: ("tab:blue", "solid", "intra-speaker past"),
    Relation.INTRA_FUTURE: ("tab:cyan", "solid", "intra-speaker future"),
    Relation.INTER_PAST: ("tab:red", "dashed", "inter-speaker past"),
    Relation.INTER_FUTURE: ("tab:orange", "dashed", "inter-speaker future"),
}


def to_networkx(data: HeteroData) -> nx.MultiDiGraph:
    """The intra/inter-speaker stores of one dialogue as a networkx multigraph.

    Nodes carry ``speaker`` (and ``y``); edges carry ``relation`` (a
    :class:`Relation`) and ``subgraph`` (``"intra_speaker"``/``"inter_speaker"``).
    """
    store = data["utterance"]
    graph = nx.MultiDiGraph()
    for i, (s, y) in enumerate(zip(store.speaker.tolist(), store.y.tolist())):
        graph.add_node(i, speaker=s, y=y)
    for subgraph in ("intra_speaker", "inter_speaker"):
        edges = data["utterance", subgraph, "utterance"]
        for j, i, r in zip(*edges.edge_index.tolist(), edges.edge_rel.tolist()):
            graph.add_edge(j, i, relation=Relation(r), subgraph=subgraph)
    return graph


def draw_relation_graph(data: HeteroData, ax: Any = None, label_names: list[str] | None = None) -> Any:
    """Draw one dialogue: utterances left to right, one row per speaker, edges by relation.

    Self loops are left out of the picture. Needs matplotlib
    (``pip install "dialoggraph[plot]"``). Returns the matplotlib axes.
    """
    plt = require("matplotlib.pyplot", "plot", "draw_relation_graph")
    Line2D = require("matplotlib.lines", "plot", "draw_relation_graph").Line2D
    graph = to_networkx(data)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, graph.number_of_nodes() * 0.9), 3.5))
    pos = {i: (i, -a["speaker"]) for i, a in graph.nodes(data=True)}
    names = data.speaker_names
    labels = {i: f"{i}\n{label_names[a['y']] if label_names and a['y'] >= 0 else ''}"
              for i, a in graph.nodes(data=True)}
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[a["speaker"] for _, a in graph.nodes(data=True)],
                           cmap="Set2", vmin=0, vmax=7, node_size=700, edgecolors="black")
    nx.draw_networkx_labels(graph, pos, labels, ax=ax, font_size=7)
    for relation, (colour, style, label) in STYLE.items():
        edges = [(j, i) for j, i, a in graph.edges(data=True) if a["relation"] == relation]
        nx.draw_networkx_edges(graph, pos, edgelist=edges, ax=ax, edge_color=colour, style=style,
                               arrows=True, connectionstyle="arc3,rad=0.25", node_size=700,
                               width=1.2)
    ax.set_yticks([-s for s in range(len(names))], names)
    ax.tick_params(left=True, labelleft=True)
    handles = [Line2D([], [], color=colour, linestyle=style, label=label)
               for colour, style, label in STYLE.values()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4,
              fontsize=8, frameon=False)
    ax.set_title(f"dialogue {data.dialogue_id}: relation edges (target <- source)")
    return ax
