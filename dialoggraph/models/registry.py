"""Model registry: how the command line finds a model by name or by import path."""
from __future__ import annotations

import importlib
from typing import Callable

from dialoggraph.config import ConfigError
from dialoggraph.models.base import DialogueModel

MODELS: dict[str, type[DialogueModel]] = {}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register(name: str) -> Callable[[type], type]:
    """Class decorator: make a :class:`DialogueModel` available under ``name`` (e.g. to the CLI).

    Registering a class again under its name (a re-run notebook cell, a reloaded module)
    replaces the entry; another class under a taken name is refused.
    """
    def wrap(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, DialogueModel)):
            raise TypeError(f"{cls!r} is not a DialogueModel subclass")
        if name in MODELS and _qualified(MODELS[name]) != _qualified(cls):
            raise ValueError(f"model name {name!r} is taken by {_qualified(MODELS[name])}")
        cls.name = name
        MODELS[name] = cls
        return cls
    return wrap


def resolve_model(spec: str | type) -> type[DialogueModel]:
    """A model class from a registered name, an import path ``package.module:Class`` or the
    class itself; the one place the trainer and the CLI turn a spec into a class."""
    if isinstance(spec, type):
        cls = spec
    elif ":" in spec:
        module, _, qualname = spec.partition(":")
        try:
            cls = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"model {spec!r}: cannot import {module!r} ({exc})") from None
        for part in qualname.split("."):
            cls = getattr(cls, part, None)
            if cls is None:
                raise ConfigError(f"model {spec!r}: {module!r} has no {qualname!r}")
    elif spec in MODELS:
        cls = MODELS[spec]
    else:
        raise ConfigError(f"unknown model {spec!r}; available: {', '.join(sorted(MODELS))} "
                          f"or an import path package.module:Class")
    if not (isinstance(cls, type) and issubclass(cls, DialogueModel)):
        raise ConfigError(f"model {spec!r} is not a dialoggraph.models.DialogueModel subclass")
    return cls


def model_spec(cls: type[DialogueModel]) -> str:
    """How a checkpoint names the model: its registered name, else its import path."""
    name = getattr(cls, "name", None)
    return name if name and MODELS.get(name) is cls else _qualified(cls)

