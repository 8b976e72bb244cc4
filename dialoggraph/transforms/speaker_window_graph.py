"""Attach AMB-DSGDN's intra/inter-speaker subgraphs to a dialogue."""
from __future__ import annotations

from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from dialoggraph.data.dialogue import INTER, INTRA, NODE
from dialoggraph.graphs.window import speaker_window_edges, split_speaker_subgraphs


class SpeakerWindowGraph(BaseTransform):
    """Adds the ``intra_speaker`` and ``inter_speaker`` edge stores with ``edge_rel``.

    Built with :func:`~dialoggraph.graphs.speaker_window_edges` and
    :func:`~dialoggraph.graphs.split_speaker_subgraphs`. Use it as a dataset's
    ``pre_transform`` so the edges are built once per dialogue and cached.
    Works on one dialogue and on a batch (it then reads ``batch``).

    Args:
        past: how many earlier utterances each one receives from (paper: 5).
        future: how many later utterances each one receives from (paper: 5).
    """

    edge_types = (INTRA, INTER)

    def __init__(self, past: int = 5, future: int = 5):
        self.past = past
        self.future = future

    def forward(self, data: HeteroData) -> HeteroData:
        store = data[NODE]
        edge_index, edge_rel = speaker_window_edges(store.speaker, store.get("batch"),
                                                    self.past, self.future)
        (intra, intra_rel), (inter, inter_rel) = split_speaker_subgraphs(edge_index, edge_rel)
        data[INTRA].edge_index, data[INTRA].edge_rel = intra, intra_rel
        data[INTER].edge_index, data[INTER].edge_rel = inter, inter_rel
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(past={self.past}, future={self.future})"
