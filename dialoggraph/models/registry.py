"""Model registry: CLI name -> model class (and its config dataclass)."""
from __future__ import annotations

from typing import Callable

MODELS: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a model available under ``name`` (e.g. to the CLI)."""
    def wrap(cls: type) -> type:
        if name in MODELS:
            raise ValueError(f"model name {name!r} is registered twice")
        cls.name = name
        MODELS[name] = cls
        return cls
    return wrap


def get_model_class(name: str) -> type:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))}") from None
