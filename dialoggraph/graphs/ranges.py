"""Shared machinery of the builders: dialogue bounds and contiguous source ranges.

Every builder in :mod:`dialoggraph.graphs` gives each target node ``i`` a
contiguous range of source nodes ``lo_i .. lo_i + count_i - 1`` inside its
dialogue, then expands all ranges at once with :func:`edges_from_ranges`:
cost O(nodes + edges), no ``L x L`` tensor, no loop over dialogues.
"""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.data.padding import dialogue_positions


def check_batch(batch: Tensor | None, num_nodes: int, device: torch.device) -> Tensor:
    """Validate (or create) the batch vector: 1-D long, sorted, one per node."""
    if batch is None:  # one dialogue: nothing to check
        return torch.zeros(num_nodes, dtype=torch.long, device=device)
    if batch.dim() != 1 or batch.dtype != torch.long:
        raise DialogueValidationError(
            f"batch must be a 1-D long tensor, got dtype {batch.dtype} and shape {tuple(batch.shape)}")
    if batch.numel() != num_nodes:
        raise DialogueValidationError(f"{num_nodes} nodes but {batch.numel()} batch entries")
    if num_nodes and (bool((batch[1:] < batch[:-1]).any()) or int(batch[0]) < 0):
        raise DialogueValidationError(
            "batch must be non-decreasing and non-negative: the utterances of a dialogue must be "
            "contiguous and in order (as torch_geometric batches are)")
    return batch


def check_speaker(speaker: Tensor) -> Tensor:
    if speaker.dim() != 1 or speaker.dtype != torch.long:
        raise DialogueValidationError(
            f"speaker must be a 1-D long tensor, got dtype {speaker.dtype} and shape "
            f"{tuple(speaker.shape)}")
    if speaker.numel() and int(speaker.min()) < 0:
        raise DialogueValidationError("speaker ids must be non-negative")
    return speaker


def dialogue_bounds(batch: Tensor) -> tuple[Tensor, Tensor]:
    """Per node, the index of its dialogue's first node and one past its last."""
    if batch.numel() and not bool(batch[-1]):  # one dialogue
        return torch.zeros_like(batch), torch.full_like(batch, batch.numel())
    position, lengths = dialogue_positions(batch)
    start = torch.arange(batch.numel(), device=batch.device) - position
    return start, start + lengths[batch]


def edges_from_ranges(lo: Tensor, count: Tensor) -> Tensor:
    """Expand per-target source ranges into ``edge_index`` ``[2, E]``.

    Target ``i`` receives edges from ``lo[i], lo[i] + 1, ..., lo[i] + count[i] - 1``.
    Edges come out sorted by target, then source.
    """
    n = lo.numel()
    num_edges = int(count.sum())
    dst = torch.repeat_interleave(torch.arange(n, device=lo.device), count,
                                  output_size=num_edges)
    first = count.cumsum(0) - count  # first edge slot of each target
    src = torch.arange(num_edges, device=lo.device) + (lo - first)[dst]
    return torch.stack([src, dst])
