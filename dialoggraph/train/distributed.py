"""PyTorch DDP plumbing for ``torchrun [--nnodes M] --nproc_per_node=N -m dialoggraph train ...``.

``--batch-size`` is the global batch: each optimizer step takes the ``batch_size`` dialogues one
process would take (:class:`GlobalBatchSampler`), split across the ranks, and the cross-entropy
is the mean over the global batch's labelled utterances (:func:`global_count`), so the steps are
those of one process up to float rounding (with dropout, each rank draws its own masks).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist


def init_distributed(device: str) -> tuple[int, int]:
    """Join the process group when launched by torchrun (gloo on CPU, nccl on GPU).

    Returns ``(rank, world_size)``; ``(0, 1)`` when not distributed. A process group the caller
    made already (even of one process) is joined as it is.
    """
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size()


def is_main() -> bool:
    """Rank 0, or not distributed; before the process group exists, torchrun's ``RANK`` decides."""
    if dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def gather(obj: Any) -> list[Any]:
    """Every rank's ``obj`` on every rank (a one-element list when not distributed)."""
    if not dist.is_initialized():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class GlobalBatchSampler(torch.utils.data.Sampler):
    """One rank's share of the global batches one process would draw.

    Each epoch the ``n`` dialogues are shuffled by ``torch.randperm(n, generator=generator)``, the
    draw of a one-process ``DataLoader(shuffle=True, generator=generator)`` (give the same
    generator to the ``DataLoader``, which draws its base seed from it first, as it does for one
    process), cut into batches of ``batch_size``, and each batch split into ``world`` near-equal
    slices (``numpy.array_split``); rank ``r`` gets slice ``r``. A rank whose slice is empty (a
    last batch of fewer than ``world`` dialogues) gets the batch's first dialogue with
    ``weights[step] = 0``, so that every rank takes every step. ``sizes[step]``: the global batch's
    dialogues.

    Args:
        n: dialogues in the training set.
        batch_size: the global batch.
        rank, world: this process and the number of processes.
        generator: the epoch's generator (the trainer seeds it before each epoch).
    """

    def __init__(self, n: int, batch_size: int, rank: int, world: int, generator: torch.Generator):
        self.n, self.batch_size, self.rank, self.world, self.generator = n, batch_size, rank, world, generator
        self.weights: list[float] = []
        self.sizes: list[int] = []

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.n, generator=self.generator).numpy()
        self.weights, self.sizes = [], []
        for start in range(0, self.n, self.batch_size):
            batch = order[start:start + self.batch_size]
            share = np.array_split(batch, self.world)[self.rank]
            self.weights.append(1.0 if len(share) else 0.0)
            self.sizes.append(len(batch))
            yield (share if len(share) else batch[:1]).tolist()


def global_count(local: torch.Tensor) -> torch.Tensor:
    """The sum of ``local`` (a 0-d count) over the ranks (itself when not distributed)."""
    if not dist.is_initialized():
        return local
    total = local.clone()
    dist.all_reduce(total)
    return total
