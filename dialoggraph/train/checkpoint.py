"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``, and the model rebuilt from one."""
from __future__ import annotations

import os
from typing import Any, Sequence

import torch

from dialoggraph.config import ConfigError, from_dict
from dialoggraph.io import atomic_write
from dialoggraph.models.base import DialogueModel
from dialoggraph.models.registry import model_spec, resolve_model


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


def check_compatible(state: dict[str, Any], model: str | None, label_names: Sequence[str] | None,
                     path: str) -> None:
    """Refuse a checkpoint of another model or label set, with one clear message."""
    if model is not None and state["model"] != model:
        raise CheckpointError(f"{path}: a checkpoint of model {state['model']!r}, not {model!r}")
    if label_names is not None and list(state["label_names"]) != list(label_names):
        raise CheckpointError(f"{path}: trained on labels {state['label_names']}, but the data has "
                              f"{list(label_names)}")


def _model_class(state: dict[str, Any], path: str, model_class: type | None) -> type:
    """The class a checkpoint's model is: ``model_class`` when given (it must carry the same name),
    else its registered name or import path; a class defined in a notebook or script (``__main__``)
    must be passed."""
    spec = state["model"]
    if model_class is not None:
        if not (isinstance(model_class, type) and issubclass(model_class, DialogueModel)):
            raise CheckpointError(f"{path}: model_class {model_class!r} is not a DialogueModel subclass")
        if spec not in (model_spec(model_class), model_class.__qualname__) and \
                spec.rpartition(":")[2] != model_class.__qualname__:
            raise CheckpointError(f"{path}: a checkpoint of model {spec!r}, not {model_class.__qualname__!r}")
        return model_class
    if spec.startswith("__main__:"):
        raise CheckpointError(f"{path}: its model {spec.partition(':')[2]} was defined in a notebook or script; "
                              f"pass the class: load(path, model_class={spec.partition(':')[2]})")
    try:
        return resolve_model(spec)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: {exc}; pass the class as model_class") from None


def load_model(path: str, model_class: type | None = None, device: str = "cpu") -> tuple[DialogueModel, dict[str, Any]]:
    """The model a checkpoint holds, rebuilt and in evaluation mode, with the checkpoint itself.

    A checkpoint describes itself: the model class (registered name or import path), its
    config, the label set, the feature widths, the data and the featurizers it was trained
    with. ``model_class`` is needed only for a class no other process can import (defined in
    a notebook or a script); without it such a checkpoint is refused in one line.
    ``dialoggraph.load(path)`` is this function's model.
    """
    state = load_checkpoint(path, device)
    cls = _model_class(state, path, model_class)
    version = tuple(int(part) for part in str(state.get("version", "0.1")).split(".")[:2])
    config = from_dict(cls.Config, state["model_config"], path, legacy=version < (0, 2))
    model = cls(state["in_dims"], len(state["label_names"]), config).to(device)
    try:
        model.load_state_dict(state["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the model ({str(exc).splitlines()[0]})") from None
    return model.eval(), state
