"""Graph layers on dialogue graphs."""
from dialoggraph.nn.conv.dag_conv import DAGConv, DAGSchedule
from dialoggraph.nn.conv.diff_rgat_block import DiffRGATBlock
from dialoggraph.nn.conv.diff_rgat_conv import DiffRGATConv

__all__ = ["DiffRGATConv", "DiffRGATBlock", "DAGConv", "DAGSchedule"]
