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


def check_modalities(model: str, modalities: tuple[str, ...], in_dims: dict[str, int]) -> tuple[str, ...]:
    """The model's modalities, refused with one clear message unless a non-empty subset of the data's."""
    missing = [m for m in modalities if m not in in_dims]
    if not modalities or missing:
        raise ValueError(f"{model} modalities {tuple(modalities)} must be a non-empty subset of the "
                         f"dataset's {tuple(in_dims)}")
    return tuple(modalities)
