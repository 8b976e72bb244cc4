"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``."""
from __future__ import annotations

import os
from typing import Any

import torch

from dialoggraph.io import atomic_write


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, or for another model or label set."""


def save_checkpoint(path: str, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors and plain containers only) atomically: an interrupted save
    never replaces the last good checkpoint."""
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle errors, truncated files, foreign objects
        raise CheckpointError(f"{path}: not a readable dialoggraph checkpoint ({exc})") from None
    if not isinstance(state, dict) or "model_state" not in state or "model" not in state:
        raise CheckpointError(f"{path}: not a dialoggraph checkpoint")
    return state
