"""PyG transforms that attach dialoggraph's edges to a dialogue (use as ``pre_transform``).

Each transform lists the edge stores it adds in ``edge_types`` (keys from :mod:`dialoggraph.data`).
"""
from dialoggraph.transforms.dag_graph import DAGGraph
from dialoggraph.transforms.speaker_window_graph import SpeakerWindowGraph

__all__ = ["SpeakerWindowGraph", "DAGGraph"]
