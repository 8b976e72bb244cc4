"""PyTorch DDP plumbing for ``torchrun --nproc_per_node=N -m dialoggraph train ...``."""
from __future__ import annotations

import os
from typing import Any

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
