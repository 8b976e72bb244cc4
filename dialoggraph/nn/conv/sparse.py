"""Fused attention aggregation for graph layers: CSR SpMM with per-edge, per-head weights.

Gathering ``x[source]`` for every edge materialises an ``[E, heads, C]``
message tensor (and its gradient). :func:`edge_weighted_sum` instead runs one
sparse-dense product per head in the forward pass and, in the backward pass,
the transposed product for the node gradient and a sampled dense-dense product
(``torch.sparse.sampled_addmm``) for the edge-weight gradient, so memory stays
O(edges x heads + nodes x channels).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class TargetCSR:
    """Edges sorted by target (CSR rows = targets); ``order`` maps sorted -> input position.

    Example:
        Edges 0->2, 1->2 and 2->0 of a 3-node graph:

        >>> csr = TargetCSR.build(torch.tensor([[0, 1, 2], [2, 2, 0]]), num_nodes=3)
        >>> csr.ptr, csr.src, csr.order
        (tensor([0, 1, 1, 3]), tensor([2, 0, 1]), tensor([2, 0, 1]))
    """

    order: Tensor   # [E] input edge index of each sorted edge
    ptr: Tensor     # [N + 1] row pointer over targets
    src: Tensor     # [E] sorted sources (CSR column indices)
    dst: Tensor     # [E] sorted targets
    num_nodes: int
    is_input_order: bool  # the input was already sorted by target (order is the identity)
    _transposed: tuple[Tensor, Tensor, Tensor] | None = None

    @staticmethod
    def build(edge_index: Tensor, num_nodes: int) -> "TargetCSR":
        src, dst = edge_index
        # Under torch.compile the edges are sorted unconditionally: checking first is a host read.
        is_input_order = not torch.compiler.is_compiling() and not (dst.numel() and bool((dst[1:] < dst[:-1]).any()))
        if is_input_order:  # dialoggraph's builders already sort by target
            order = torch.arange(dst.numel(), device=dst.device)
        else:
            order = torch.sort(dst, stable=True).indices
            src, dst = src[order], dst[order]
        return TargetCSR(order, _pointer(dst, num_nodes), src, dst, num_nodes, is_input_order)

    def transposed(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(ptr_t, col_t, by_source)``: the same edges with rows = sources (built once)."""
        if self._transposed is None:
            by_source = torch.sort(self.src, stable=True).indices
            self._transposed = (_pointer(self.src[by_source], self.num_nodes), self.dst[by_source], by_source)
        return self._transposed

    def per_head(self, heads: int) -> "TargetCSR":
        """The graph repeated once per head, heads first: node ``h * N + i``.

        With features laid out ``[heads, N, C]`` (viewed as ``[heads * N, C]``)
        one sparse product then serves every head; the matching edge weights
        are a ``[heads, E]`` tensor flattened.
        """
        E, N = self.src.numel(), self.num_nodes
        shift = torch.arange(heads, device=self.src.device).unsqueeze(1)
        ptr = torch.cat([(self.ptr[:-1] + E * shift).reshape(-1), self.ptr.new_full((1,), E * heads)])
        return TargetCSR(torch.arange(E * heads, device=self.src.device), ptr,
                         (self.src + N * shift).reshape(-1), (self.dst + N * shift).reshape(-1),
                         N * heads, True)

    def adjacency(self, dtype: torch.dtype) -> Tensor:
        """The structure as a ``torch.sparse_csr_tensor`` ``[N, N]`` (target x source)."""
        values = torch.ones(self.src.numel(), dtype=dtype, device=self.src.device)
        return csr_tensor(self.ptr, self.src, values, self.num_nodes)


def _pointer(sorted_rows: Tensor, num_rows: int) -> Tensor:
    """CSR row pointer: ``ptr[i]`` = how many entries have a row below ``i`` (a static shape)."""
    return torch.searchsorted(sorted_rows, torch.arange(num_rows + 1, device=sorted_rows.device))


def csr_tensor(ptr: Tensor, col: Tensor, values: Tensor, num_cols: int) -> Tensor:
    """A ``torch.sparse_csr_tensor`` without invariant checks (the builders guarantee them).

    Example:
        >>> csr_tensor(torch.tensor([0, 1, 1, 3]), torch.tensor([2, 0, 1]), torch.ones(3), 3).to_dense()
        tensor([[0., 0., 1.],
                [0., 0., 0.],
                [1., 1., 0.]])
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(ptr, col, values, (ptr.numel() - 1, num_cols),
                                       check_invariants=False)


class _EdgeWeightedSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, alpha: Tensor, x: Tensor, csr: TargetCSR) -> Tensor:
        ctx.save_for_backward(alpha, x)
        ctx.csr = csr
        return csr_tensor(csr.ptr, csr.src, alpha, x.size(0)) @ x

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        # The float32 island holds in the backward pass too, should it run inside autocast.
        with torch.autocast(grad_out.device.type, enabled=False):
            return _EdgeWeightedSum._backward(ctx, grad_out.to(ctx.saved_tensors[1].dtype))

    @staticmethod
    def _backward(ctx, grad_out: Tensor):
        alpha, x = ctx.saved_tensors
        csr: TargetCSR = ctx.csr
        grad_out = grad_out.contiguous()
        grad_alpha = grad_x = None
        if ctx.needs_input_grad[1]:
            # The transposed structure (rows = sources) carries the gradient back to the sources.
            ptr_t, col_t, by_source = csr.transposed()
            grad_x = csr_tensor(ptr_t, col_t, alpha[by_source], grad_out.size(0)) @ grad_out
        if ctx.needs_input_grad[0]:
            # d alpha_e = <grad_out[dst_e], x[src_e]>: a dense product sampled at the edges only.
            pattern = csr_tensor(csr.ptr, csr.src, alpha.new_zeros(alpha.numel()), x.size(0))
            grad_alpha = torch.sparse.sampled_addmm(pattern, grad_out, x.t(), beta=0.0).values()
        return grad_alpha, grad_x, None


def edge_weighted_sum(alpha: Tensor, x: Tensor, csr: TargetCSR) -> Tensor:
    r"""``out[i] = sum_{e: src_e -> i} alpha[e] * x[src_e]``.

    Args:
        alpha: ``[E]`` edge weights in ``csr``'s (target-sorted) order.
        x: ``[N, C]`` source features.
        csr: the edge structure.

    Returns:
        ``[N, C]``.

    Example:
        Edge weights 1, 0.5 and 0.25 on the edges 0->2, 1->2 and 2->0, put in target order:

        >>> csr = TargetCSR.build(torch.tensor([[0, 1, 2], [2, 2, 0]]), num_nodes=3)
        >>> alpha = torch.tensor([1.0, 0.5, 0.25])[csr.order]
        >>> edge_weighted_sum(alpha, torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]), csr)
        tensor([[0.5000, 0.5000],
                [0.0000, 0.0000],
                [1.0000, 0.5000]])
    """
    if torch.compiler.is_compiling():
        # Dynamo does not trace sparse CSR tensors: a gather-multiply-scatter that the compiler
        # fuses into one kernel (the [E, C] product then lives only inside that kernel).
        return x.new_zeros(csr.num_nodes, x.size(1)).index_add_(0, csr.dst, x[csr.src] * alpha.unsqueeze(-1))
    # A float32 island: torch's sparse CSR products have no bfloat16 / float16 kernel on CPU
    # (addmm_out_sparse_csr_impl_mkl), so under autocast the aggregation runs in float32.
    dtype = torch.promote_types(alpha.dtype, x.dtype)
    if dtype in (torch.bfloat16, torch.float16):
        dtype = torch.float32
    with torch.autocast(x.device.type, enabled=False):
        return _EdgeWeightedSum.apply(alpha.to(dtype).contiguous(), x.to(dtype).contiguous(), csr)
