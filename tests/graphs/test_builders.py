import pytest
import torch

from conftest import random_batch
from dialoggraph.data import DialogueValidationError
from dialoggraph.graphs import (Relation, dag_edges, full_context_edges, speaker_window_edges,
                                split_speaker_subgraphs)


def dialogues_of(batch):
    """(first node, length) of each dialogue, by a plain loop."""
    out, start = [], 0
    for b in range(int(batch.max()) + 1 if batch.numel() else 0):
        n = int((batch == b).sum())
        out.append((start, n))
        start += n
    return out


def reference_window(speaker, batch, past, future):
    """AMB-DSGDN's relation matrix (eqs. 7-8) as the seed code builds it: loops over i, j."""
    edges = []
    for start, n in dialogues_of(batch):
        for i in range(n):
            for j in range(n):
                if past is not None and i - j > past or future is not None and j - i > future:
                    continue
                same = speaker[start + i] == speaker[start + j]
                if i == j:
                    rel = Relation.SELF
                elif same:
                    rel = Relation.INTRA_PAST if j < i else Relation.INTRA_FUTURE
                else:
                    rel = Relation.INTER_PAST if j < i else Relation.INTER_FUTURE
                edges.append((start + i, start + j, int(rel)))  # (target, source, relation)
    return sorted(edges)


def reference_dag(speaker, batch, window):
    """DAG-ERC's loop: walk back from i until the window-th utterance of i's speaker."""
    edges = []
    for start, n in dialogues_of(batch):
        for i in range(n):
            count = 0
            for j in range(i - 1, -1, -1):
                same = bool(speaker[start + i] == speaker[start + j])
                edges.append((start + i, start + j, same))
                if same:
                    count += 1
                    if count == window:
                        break
    return sorted(edges)


def as_rows(edge_index, values):
    return [(int(d), int(s), int(v)) for s, d, v in zip(edge_index[0], edge_index[1], values)]


CASES = [  # (num_dialogues, max_len, max_speakers, past, future)
    (20, 12, 3, 5, 5),
    (10, 1, 2, 5, 5),      # length-1 dialogues
    (15, 30, 1, 3, 2),     # one speaker
    (12, 40, 9, 4, 6),     # nine speakers
    (8, 6, 3, 50, 70),     # windows longer than the dialogue
    (8, 10, 3, 0, 0),      # zero windows: self loops only
    (8, 10, 3, 0, 3),
]


@pytest.mark.parametrize("case", CASES)
def test_speaker_window_edges_match_loop_reference(case):
    num, max_len, max_speakers, past, future = case
    g = torch.Generator().manual_seed(hash(case) % 2**31)
    for _ in range(5):
        speaker, batch = random_batch(g, num, max_len, max_speakers)
        edge_index, edge_rel = speaker_window_edges(speaker, batch, past, future)
        rows = as_rows(edge_index, edge_rel)
        assert rows == reference_window(speaker, batch, past, future)  # also: sorted by target
        assert int((edge_rel == Relation.SELF).sum()) == speaker.numel()


@pytest.mark.parametrize("past,future", [(None, None), (2, None), (None, 0), (3, 1)])
def test_full_context_edges_match_loop_reference(past, future):
    g = torch.Generator().manual_seed(1)
    speaker, batch = random_batch(g, 10, 15, 3)
    edge_index = full_context_edges(batch, past, future)
    expected = [(i, j) for i, j, _ in reference_window(speaker, batch, past, future)]
    assert [(int(d), int(s)) for s, d in edge_index.t()] == expected
    no_loops = full_context_edges(batch, past, future, self_loops=False)
    assert no_loops.size(1) == edge_index.size(1) - speaker.numel()
    assert bool((no_loops[0] != no_loops[1]).all())


@pytest.mark.parametrize("window", [1, 2, 3])
@pytest.mark.parametrize("max_speakers", [1, 2, 9])
def test_dag_edges_match_dag_erc_loop(window, max_speakers):
    g = torch.Generator().manual_seed(window * 10 + max_speakers)
    for _ in range(5):
        speaker, batch = random_batch(g, 12, 25, max_speakers)
        edge_index, same = dag_edges(speaker, batch, window)
        assert as_rows(edge_index, same) == reference_dag(speaker, batch, window)
        assert bool((edge_index[0] < edge_index[1]).all())  # acyclic: sources come first


def test_dag_edges_hand_made_dialogue():
    # A B A A B C A: node 6 (A) reaches back to node 3, its previous A turn.
    speaker = torch.tensor([0, 1, 0, 0, 1, 2, 0])
    edge_index, same = dag_edges(speaker)
    sources_of_6 = edge_index[0][edge_index[1] == 6].tolist()
    assert sources_of_6 == [3, 4, 5]
    assert edge_index[0][edge_index[1] == 0].numel() == 0
    edge_index, _ = dag_edges(speaker, same_speaker_window=2)
    assert edge_index[0][edge_index[1] == 6].tolist() == [2, 3, 4, 5]


def test_split_speaker_subgraphs():
    speaker = torch.tensor([0, 1, 0, 1, 1])
    edge_index, edge_rel = speaker_window_edges(speaker, past=5, future=5)
    (intra, intra_rel), (inter, inter_rel) = split_speaker_subgraphs(edge_index, edge_rel)
    assert set(intra_rel.tolist()) == {0, 1, 2}
    assert set(inter_rel.tolist()) == {0, 3, 4}
    assert bool((speaker[intra[0]] == speaker[intra[1]]).all())
    off_diagonal = inter[0] != inter[1]
    assert bool((speaker[inter[0]][off_diagonal] != speaker[inter[1]][off_diagonal]).all())
    # Each subgraph keeps one self loop per node; together they cover every edge once more.
    assert intra.size(1) + inter.size(1) == edge_index.size(1) + speaker.numel()


def test_builders_reject_bad_input():
    with pytest.raises(DialogueValidationError, match="non-decreasing"):
        speaker_window_edges(torch.tensor([0, 1, 0]), torch.tensor([1, 0, 1]))
    with pytest.raises(DialogueValidationError, match="batch entries"):
        speaker_window_edges(torch.tensor([0, 1, 0]), torch.tensor([0, 0]))
    with pytest.raises(DialogueValidationError, match="long"):
        dag_edges(torch.tensor([0.0, 1.0]))
    with pytest.raises(DialogueValidationError, match="non-negative"):
        dag_edges(torch.tensor([0, -1]))
    with pytest.raises(ValueError, match="past"):
        speaker_window_edges(torch.tensor([0, 1]), past=-1)
    with pytest.raises(ValueError, match="same_speaker_window"):
        dag_edges(torch.tensor([0, 1]), same_speaker_window=0)


def test_empty_input_gives_no_edges():
    empty = torch.empty(0, dtype=torch.long)
    assert speaker_window_edges(empty)[0].shape == (2, 0)
    assert dag_edges(empty)[0].shape == (2, 0)
