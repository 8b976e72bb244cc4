"""AMB-DSGDN's per-subgraph block around DiffRGATConv."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.nn.conv.diff_rgat_conv import DiffRGATConv


class DiffRGATBlock(torch.nn.Module):
    r"""One DiffRGCN block on one relation subgraph (AMB-DSGDN, Alg. 1 and the end of sec. 4.5).

    .. math::
        \mathbf{z} &= \mathrm{Dropout}\big(\Vert_{k=1}^{H} \mathrm{DiffRGAT}_k(\mathbf{x})\big)
        \qquad \text{(multi-head layer, eq. 18)} \\
        \mathbf{o} &= \mathrm{DiffRGAT}_{out}(\mathbf{z}) \qquad \text{(output attention layer, 1 head)} \\
        \mathbf{x}' &= \mathrm{LayerNorm}\big(\mathbf{x} + \mathrm{Dropout}(\mathbf{W}\,\mathrm{GELU}(\mathbf{o}) + \mathbf{b})\big)

    The model applies one block to the inter-speaker subgraph, then one to the
    intra-speaker subgraph, per modality (sec. 4.4).

    Args:
        channels: node feature size (kept: the residual needs it).
        heads: heads of the multi-head layer; each head has ``channels // heads``
            outputs (even).
        num_relations, relation_dim, negative_slope: as in :class:`DiffRGATConv`.
        depth: layer depth for :math:`\lambda_{init}` (both layers use it).
        dropout: dropout after the multi-head layer, on attention and before the residual.

    Shapes:
        - **input:** :math:`(N, channels)`, edge indices :math:`(2, E)`, relations :math:`(E)`
        - **output:** :math:`(N, channels)`
    """

    def __init__(self, channels: int, heads: int = 2, num_relations: int = 5, relation_dim: int = 10,
                 depth: int = 1, negative_slope: float = 0.2, dropout: float = 0.0):
        super().__init__()
        if channels % heads or (channels // heads) % 2:
            raise ValueError(f"channels ({channels}) must split into {heads} heads of even size")
        common = dict(num_relations=num_relations, relation_dim=relation_dim, depth=depth,
                      negative_slope=negative_slope, dropout=dropout)
        self.heads_layer = DiffRGATConv(channels, channels // heads, heads=heads, concat=True, **common)
        self.out_layer = DiffRGATConv(channels, channels, heads=1, concat=False, **common)
        self.linear = torch.nn.Linear(channels, channels)
        self.norm = torch.nn.LayerNorm(channels)
        self.dropout = dropout

    def reset_parameters(self) -> None:
        self.heads_layer.reset_parameters()
        self.out_layer.reset_parameters()
        self.linear.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_rel: Tensor | None = None) -> Tensor:
        z = F.dropout(self.heads_layer(x, edge_index, edge_rel), self.dropout, self.training)
        o = self.out_layer(z, edge_index, edge_rel)
        h = F.dropout(self.linear(F.gelu(o)), self.dropout, self.training)
        return self.norm(x + h)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.linear.in_features}, heads={self.heads_layer.heads})"
