"""Attach DAG-ERC's directed acyclic graph to a dialogue."""
from __future__ import annotations

from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from dialoggraph.data.dialogue import DAG, NODE
from dialoggraph.graphs.dag import dag_edges


class DAGGraph(BaseTransform):
    """Adds the ``dag`` edge store with a boolean ``same_speaker`` per edge.

    Built with :func:`~dialoggraph.graphs.dag_edges`; use it as a dataset's
    ``pre_transform``.

    Args:
        same_speaker_window: predecessors reach back to the ``w``-th earlier
            utterance of the target's own speaker (DAG-ERC: 1).
    """

    edge_types = (DAG,)

    def __init__(self, same_speaker_window: int = 1):
        self.same_speaker_window = same_speaker_window

    def forward(self, data: HeteroData) -> HeteroData:
        store = data[NODE]
        edge_index, same_speaker = dag_edges(store.speaker, store.get("batch"),
                                             self.same_speaker_window)
        data[DAG].edge_index = edge_index
        data[DAG].same_speaker = same_speaker
        return data

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(same_speaker_window={self.same_speaker_window})"
