"""PyG transforms that attach dialoggraph's edges to a dialogue (use as ``pre_transform``)."""
from dialoggraph.transforms.dag_graph import DAG, DAGGraph
from dialoggraph.transforms.speaker_window_graph import INTER, INTRA, SpeakerWindowGraph

__all__ = ["SpeakerWindowGraph", "DAGGraph", "INTRA", "INTER", "DAG"]
