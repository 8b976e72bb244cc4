"""Typed configurations: dataclasses whose fields are checked against their type hints.

Every configuration in dialoggraph (each model's ``Config``, :class:`~dialoggraph.train.TrainConfig`,
:class:`~dialoggraph.datasets.DatasetConfig`) derives from :class:`TypedConfig`:

- each field has a type hint: ``int``, ``float``, ``bool``, ``str``, a ``Literal[...]`` of
  choices, ``tuple[X, ...]`` of those, or any of them ``| None``;
- each field is documented by a string right below it (an *attribute docstring*, the
  convention mkdocstrings and Sphinx read); :func:`field_docs` returns them, the command
  line shows them as each option's help;
- a value is checked on construction, so a typo fails before any data is loaded, with a
  :class:`ConfigError` that names the class and the field.

:func:`to_dict` / :func:`from_dict` give the plain form written to checkpoints and to
``config.yaml``.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
import types
import typing
from typing import Any, ClassVar, Literal


class ConfigError(ValueError):
    """A configuration value that its field does not accept; names the class and field."""


def split_optional(hint: Any) -> tuple[bool, Any]:
    """``(True, X)`` for ``X | None``, else ``(False, hint)``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def describe(hint: Any) -> str:
    """A short human name of a supported type hint (for messages and help)."""
    optional, hint = split_optional(hint)
    origin = typing.get_origin(hint)
    if origin is Literal:
        text = "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    elif origin is tuple:
        text = f"a tuple of ({describe(typing.get_args(hint)[0])})"
    else:
        text = getattr(hint, "__name__", str(hint))
    return text + (" or None" if optional else "")


def check_value(hint: Any, value: Any) -> Any:
    """``value`` as the type ``hint`` names (a list becomes a tuple, an int a float where a
    float is asked); raises ``TypeError`` / ``ValueError`` when it is not one."""
    optional, hint = split_optional(hint)
    if value is None:
        if optional:
            return None
        raise ValueError("None is not allowed")
    origin = typing.get_origin(hint)
    if origin is Literal:
        if value not in typing.get_args(hint):
            raise ValueError(f"must be {describe(hint)}")
        return value
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"must be {describe(hint)}")
        item = typing.get_args(hint)[0]
        return tuple(check_value(item, v) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError("must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError("must be a string")
        return value
    raise TypeError(f"unsupported field type {hint!r} (use int, float, bool, str, Literal, tuple or | None)")


@functools.lru_cache(maxsize=None)
def field_hints(cls: type) -> dict[str, Any]:
    """The resolved type hint of every dataclass field of ``cls``."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@functools.lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """The attribute docstring of each field of ``cls`` and its dataclass bases (whitespace
    collapsed); fields without one, or classes whose source is not available (defined in
    an interactive interpreter), are left out."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                    isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and \
                    isinstance(after.value.value, str):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


class TypedConfig:
    """Base of every configuration dataclass: checks each field against its type hint.

    Subclasses are ``@dataclass``es; one that checks more (a relation between
    fields) overrides :meth:`check` and raises :class:`ConfigError`. ``renamed``
    maps field names of versions before 0.2 to today's (``None``: the field was
    removed), so older checkpoints and config files still load.
    """

    renamed: ClassVar[dict[str, str | None]] = {}

    def __post_init__(self) -> None:
        for name, hint in field_hints(type(self)).items():
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, check_value(hint, value))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{type(self).__name__}.{name} = {value!r}: {exc}") from None
        self.check()

    def check(self) -> None:
        """Checks across fields (override; raise :class:`ConfigError`)."""

    def fail(self, message: str) -> None:
        """Raise a :class:`ConfigError` that names this class."""
        raise ConfigError(f"{type(self).__name__}: {message}")


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as YAML/JSON/``weights_only``-safe primitives (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def from_dict(cls: type, values: dict[str, Any], where: str = "", legacy: bool = False) -> Any:
    """``cls(**values)``, an unknown field refused by name. A field renamed since an earlier
    version (:attr:`TypedConfig.renamed`) is mapped to today's name when it is not a field
    today; ``legacy=True`` (a checkpoint written before the renames) maps every old name,
    also one that names another field today."""
    renamed = getattr(cls, "renamed", {})
    names = {f.name for f in dataclasses.fields(cls)}
    clean = {}
    for key, value in values.items():
        if key in renamed and (legacy or key not in names):
            key = renamed[key]
            if key is None:
                continue
        if key not in names:
            raise ConfigError(f"{where + ': ' if where else ''}{cls.__name__} has no field {key!r} "
                              f"(fields: {', '.join(sorted(names))})")
        clean[key] = value
    return cls(**clean)
