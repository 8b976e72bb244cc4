"""Flat <-> padded node features, for blocks that run per dialogue.

Node-feature transforms take flat ``[N, D]`` features and the batch vector;
those that need a sequence view (GRUs, transformers, xLSTM) pad to
``[B, L_max, D]`` with :func:`to_padded` and come back with :func:`from_padded`.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import to_dense_batch


def to_padded(x: Tensor, batch: Tensor | None = None, fill_value: float = 0.0,
              max_len: int | None = None, batch_size: int | None = None) -> tuple[Tensor, Tensor]:
    """``[N, *]`` -> (``[B, L_max, *]``, mask ``[B, L_max]``).

    A thin wrapper of :func:`torch_geometric.utils.to_dense_batch`; nodes of a
    dialogue must be contiguous (as PyG batches are).
    """
    return to_dense_batch(x, batch, fill_value=fill_value, max_num_nodes=max_len,
                          batch_size=batch_size)


def from_padded(x: Tensor, mask: Tensor) -> Tensor:
    """``[B, L_max, *]`` and mask ``[B, L_max]`` -> flat ``[N, *]`` in batch order."""
    return x[mask]


def dialogue_positions(batch: Tensor) -> tuple[Tensor, Tensor]:
    """Each utterance's position in its dialogue ``[N]`` and each dialogue's length ``[B]``.

    Nodes of a dialogue must be contiguous (as PyG batches are).

    Example:
        >>> dialogue_positions(torch.tensor([0, 0, 0, 1, 1]))
        (tensor([0, 1, 2, 0, 1]), tensor([3, 2]))
    """
    lengths = torch.bincount(batch)
    return torch.arange(batch.numel(), device=batch.device) - (lengths.cumsum(0) - lengths)[batch], lengths
