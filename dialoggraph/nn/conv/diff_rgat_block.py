"""AMB-DSGDN's per-subgraph block around DiffRGATConv."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.nn.conv.diff_rgat_conv import DiffRGATConv
from dialoggraph.nn.dropout import dropout


class DiffRGATBlock(torch.nn.Module):
    r"""One DiffRGCN block on one relation subgraph (AMB-DSGDN, Alg. 1 and the end of sec. 4.5).

    .. math::
        \mathbf{z} &= \mathrm{Dropout}\big(\Vert_{k=1}^{H} \mathrm{GELU}(\mathrm{DiffRGAT}_k(
            \mathrm{Dropout}(\mathbf{x})))\big)
        \qquad \text{(multi-head layer, eq. 18)} \\
        \mathbf{o} &= \mathrm{GELU}\big(\mathrm{GELU}(\mathrm{DiffRGAT}_{out}(\mathbf{z}))\big)
            \qquad \text{(output attention layer, } Hd \to d\text{)} \\
        \mathbf{x}' &= \mathrm{LayerNorm}\big(\mathbf{x} + \mathbf{W}\mathbf{o} + \mathbf{b}\big)

    This is the authors' ``DiffRGCN`` (github wys-ljq/AMB-DSGDN), which the
    paper describes only in prose: every head has the full width :math:`d`
    and ends in a GELU, the output layer maps :math:`Hd \to d` and ends in a
    GELU inside the layer and another after it (the code applies both), the
    input is dropped out, the linear output is not, and the attention layers
    carry no bias. The same dropout rate is used on the input, between the
    layers and on the attention coefficients (the code's 0.2). At
    ``channels=512, heads=2`` this has 1.32 M parameters, like the original.
    The model applies one block to the inter-speaker subgraph, then one to the
    intra-speaker subgraph, per modality (sec. 4.4).

    Args:
        channels: node feature size :math:`d` (kept: the residual needs it; even).
        heads: heads of the multi-head layer, each of width ``channels``.
        num_relations, relation_dim, negative_slope: as in :class:`DiffRGATConv`.
        depth: layer depth for :math:`\lambda_{init}` (both layers use it).
        dropout: dropout on the input, after the multi-head layer and on attention.

    Shapes:
        - **input:** :math:`(N, channels)`, edge indices :math:`(2, E)`, relations :math:`(E)`
        - **output:** :math:`(N, channels)`; with ``return_attention_weights`` also
          ``(edge_index, alpha)``: the output layer's differential attention, :math:`(E, 1)`.

    Example:
        >>> import torch
        >>> from dialoggraph.graphs import speaker_window_edges
        >>> speaker, batch = torch.tensor([0, 1, 0, 1, 1]), torch.zeros(5, dtype=torch.long)
        >>> edge_index, relation = speaker_window_edges(speaker, batch, 2, 2)
        >>> block = DiffRGATBlock(16, heads=2)
        >>> block(torch.randn(5, 16), edge_index, relation).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, heads: int = 2, num_relations: int = 5, relation_dim: int = 10,
                 depth: int = 1, negative_slope: float = 0.2, dropout: float = 0.2):
        super().__init__()
        if channels % 2:
            raise ValueError(f"channels must be even (positive and negative halves), got {channels}")
        common = dict(num_relations=num_relations, relation_dim=relation_dim, depth=depth,
                      negative_slope=negative_slope, dropout=dropout, bias=False)
        self.heads_layer = DiffRGATConv(channels, channels, heads=heads, concat=True, **common)
        self.out_layer = DiffRGATConv(heads * channels, channels, heads=1, concat=False, **common)
        self.linear = torch.nn.Linear(channels, channels)
        self.norm = torch.nn.LayerNorm(channels)
        self.dropout = dropout

    def reset_parameters(self) -> None:
        self.heads_layer.reset_parameters()
        self.out_layer.reset_parameters()
        self.linear.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_rel: Tensor | None = None,
                return_attention_weights: bool | None = None):
        h = dropout(x, self.dropout, self.training)
        z = dropout(F.gelu(self.heads_layer(h, edge_index, edge_rel)), self.dropout, self.training)
        o = self.out_layer(z, edge_index, edge_rel, return_attention_weights=return_attention_weights)
        o, attention = o if return_attention_weights else (o, None)
        out = self.norm(x + self.linear(F.gelu(F.gelu(o))))
        return (out, attention) if return_attention_weights else out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.linear.in_features}, heads={self.heads_layer.heads})"
