import pytest
import torch

from dialoggraph.data import make_dialogue
from dialoggraph.graphs import Relation, draw_relation_graph, to_networkx
from dialoggraph.transforms import SpeakerWindowGraph


def test_to_networkx_keeps_every_edge_and_relation():
    data = SpeakerWindowGraph(2, 1)(make_dialogue(["a", "b", "a", "c"], text=torch.zeros(4, 1)))
    graph = to_networkx(data)
    n_intra = data["utterance", "intra_speaker", "utterance"].num_edges
    n_inter = data["utterance", "inter_speaker", "utterance"].num_edges
    assert graph.number_of_edges() == n_intra + n_inter
    assert graph.nodes[3]["speaker"] == 2
    relations = [a["relation"] for j, i, a in graph.edges(data=True) if (j, i) == (0, 2)]
    assert relations == [Relation.INTRA_PAST]


def test_draw_relation_graph():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    data = SpeakerWindowGraph(2, 1)(make_dialogue(["a", "b", "a"], [0, 1, 0], text=torch.zeros(3, 1)))
    ax = draw_relation_graph(data, label_names=["x", "y"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert len(ax.get_legend().get_texts()) == 4
