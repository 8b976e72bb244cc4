"""Reusable blocks: graph layers (``conv``), node-feature transforms (``seq``, ``fusion``), losses."""
from dialoggraph.nn.conv import DAGConv, DAGSchedule, DiffRGATBlock, DiffRGATConv

__all__ = ["DiffRGATConv", "DiffRGATBlock", "DAGConv", "DAGSchedule"]
