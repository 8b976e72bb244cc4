"""Edge builders: pure, vectorised tensor functions (no loop over utterances or dialogues)."""
from dialoggraph.graphs.dag import dag_edges
from dialoggraph.graphs.draw import draw_relation_graph, to_networkx
from dialoggraph.graphs.relation import Relation
from dialoggraph.graphs.window import full_context_edges, speaker_window_edges, split_speaker_subgraphs

__all__ = [
    "Relation",
    "speaker_window_edges",
    "split_speaker_subgraphs",
    "full_context_edges",
    "dag_edges",
    "to_networkx",
    "draw_relation_graph",
]
