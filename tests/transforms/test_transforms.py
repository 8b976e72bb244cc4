import torch
from torch_geometric.loader import DataLoader

from dialoggraph.data import make_dialogue
from dialoggraph.graphs import dag_edges, speaker_window_edges
from dialoggraph.data import DAG, INTER, INTRA
from dialoggraph.transforms import DAGGraph, SpeakerWindowGraph


def dialogue(speakers, name):
    return make_dialogue(speakers, [0] * len(speakers), name, text=torch.randn(len(speakers), 3))


def test_speaker_window_graph_stores():
    data = SpeakerWindowGraph(past=2, future=1)(dialogue(["a", "b", "a", "a"], "d"))
    intra, inter = data[INTRA], data[INTER]
    assert set(intra.edge_rel.tolist()) <= {0, 1, 2} and set(inter.edge_rel.tolist()) <= {0, 3, 4}
    edge_index, _ = speaker_window_edges(data["utterance"].speaker, past=2, future=1)
    assert intra.num_edges + inter.num_edges == edge_index.size(1) + 4
    assert repr(SpeakerWindowGraph(2, 1)) == "SpeakerWindowGraph(past=2, future=1)"


def test_transform_on_batch_equals_per_dialogue_then_batched():
    dialogues = [dialogue(s, str(i)) for i, s in enumerate([["a", "b", "a"], ["x"], ["p", "q", "q", "p", "r"]])]
    per_dialogue = next(iter(DataLoader([DAGGraph()(SpeakerWindowGraph()(d.clone())) for d in dialogues],
                                        batch_size=3)))
    batch = next(iter(DataLoader(dialogues, batch_size=3)))
    batch = DAGGraph()(SpeakerWindowGraph()(batch))
    for store in (INTRA, INTER):
        assert torch.equal(batch[store].edge_index, per_dialogue[store].edge_index)
        assert torch.equal(batch[store].edge_rel, per_dialogue[store].edge_rel)
    assert torch.equal(batch[DAG].edge_index, per_dialogue[DAG].edge_index)
    assert torch.equal(batch[DAG].same_speaker, per_dialogue[DAG].same_speaker)


def test_dag_graph_store():
    data = DAGGraph(same_speaker_window=1)(dialogue(["a", "b", "a"], "d"))
    edge_index, same = dag_edges(data["utterance"].speaker)
    assert torch.equal(data[DAG].edge_index, edge_index)
    assert data[DAG].same_speaker.tolist() == [False, True, False]
