"""Command-line options generated from typed configs, config files, and the resolved ``config.yaml``.

Each field of a :class:`~dialoggraph.config.TypedConfig` becomes one option: ``--field-name``,
parsed by its type hint (``Literal`` choices, ``X | None`` with ``none``, ``tuple`` as a
comma-separated list, ``bool`` as ``--name`` / ``--no-name``), its help the field's
documentation. Values are layered: the config's defaults, then a preset, then a config
file, then the flags given.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import typing
from typing import Any, Literal

import yaml

from dialoggraph.config import ConfigError, split_optional, describe, field_docs, field_hints
from dialoggraph.io import atomic_write_yaml

#: The sections of a run file (``dialoggraph train --config run.yaml``).
RUN_KEYS = ("model", "preset", "seeds", "out", "data", "model_config", "train")


def parse_text(hint: Any, text: str) -> Any:
    """A command-line string as the value the type ``hint`` names."""
    optional, hint = split_optional(hint)
    if optional and text.strip().lower() == "none":
        return None
    origin = typing.get_origin(hint)
    if origin is tuple:
        items = [] if text.strip().lower() in ("", "none") else [t.strip() for t in text.split(",")]
        return tuple(parse_text(typing.get_args(hint)[0], item) for item in items)
    if origin is Literal:
        if text not in typing.get_args(hint):
            raise argparse.ArgumentTypeError(f"{text!r} is not {describe(hint)}")
        return text
    try:
        if hint is bool:
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        return hint(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {describe(hint)}") from None


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _metavar(hint: Any) -> str:
    optional, hint = split_optional(hint)
    origin = typing.get_origin(hint)
    if origin is Literal:
        text = "{" + ",".join(typing.get_args(hint)) + "}"
    elif origin is tuple:
        item = typing.get_args(hint)[0]
        text = ("{" + ",".join(typing.get_args(item)) + "}" if typing.get_origin(item) is Literal
                else getattr(item, "__name__", "X").upper()) + ",..."
    else:
        text = getattr(hint, "__name__", "X").upper()
    return text + ("|none" if optional else "")


def add_config_options(parser: argparse.ArgumentParser, cls: type, section: str, title: str) -> None:
    """One option per field of the config class ``cls``; parsed values land in ``args`` under
    ``"<section>.<field>"`` and only when given (see :func:`given`)."""
    group = parser.add_argument_group(title)
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        hint = field_hints(cls)[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        text = (docs.get(f.name, "") + f" (default: {_show(default)})").replace("%", "%%")
        kwargs = dict(dest=f"{section}.{f.name}", default=argparse.SUPPRESS, help=text.strip())
        flag = "--" + f.name.replace("_", "-")
        try:
            if hint is bool:
                group.add_argument(flag, action=argparse.BooleanOptionalAction, **kwargs)
            else:
                group.add_argument(flag, type=functools.partial(parse_text, hint), metavar=_metavar(hint),
                                   **kwargs)
        except argparse.ArgumentError:
            raise ConfigError(f"{cls.__name__}.{f.name}: the option {flag} is taken by another option; "
                              f"rename the field") from None


def given(args: argparse.Namespace, section: str) -> dict[str, Any]:
    """The options of ``section`` given on the command line."""
    prefix = section + "."
    return {key[len(prefix):]: value for key, value in vars(args).items() if key.startswith(prefix)}


def read_run_file(path: str) -> dict[str, Any]:
    """A run file (YAML, or JSON by its ``.json`` suffix) as a dict of :data:`RUN_KEYS`."""
    try:
        with open(path) as f:
            run = json.load(f) if path.endswith(".json") else yaml.safe_load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'} "
                          f"({str(exc).splitlines()[0]})") from None
    run = run or {}
    if not isinstance(run, dict):
        raise ConfigError(f"{path}: expected a mapping with keys {', '.join(RUN_KEYS)}")
    unknown = sorted(set(run) - set(RUN_KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; a run file has {', '.join(RUN_KEYS)}")
    for key in ("data", "model_config", "train"):
        if not isinstance(run.get(key) or {}, dict):
            raise ConfigError(f"{path}: {key} must be a mapping of field: value")
    for key in ("model", "preset", "out"):
        if run.get(key) is not None and not isinstance(run[key], str):
            raise ConfigError(f"{path}: {key} must be a string, got {run[key]!r}")
    seeds = run.get("seeds")
    if seeds is not None and not (isinstance(seeds, list) and seeds and
                                  all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise ConfigError(f"{path}: seeds must be a list of integers, got {seeds!r}")
    return run


def file_values(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """A config file's section for ``cls``, with strings read as the numbers their fields ask
    for (YAML reads ``5e-5`` as a string)."""
    hints = field_hints(cls)
    out = {}
    for key, value in values.items():
        hint = hints.get(key)
        base = split_optional(hint)[1] if hint is not None else None
        out[key] = parse_text(hint, value) if isinstance(value, str) and base in (int, float, bool) else value
    return out


def write_run_file(path: str, run: dict[str, Any]) -> None:
    """Write a resolved run (``config.yaml``) atomically."""
    atomic_write_yaml(path, run)
