"""Optional dependencies: one clear line naming the extra to install when one is missing."""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message names the ``pip install`` that adds it."""


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError`: ``"<what> needs <module>: pip install
    "dialoggraph[<extra>]""``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0].replace("_", "-")
        raise MissingExtraError(f'{what} needs {package}: pip install "dialoggraph[{extra}]"') from None


def pretrained(load: Callable[[str], Any], name: str) -> Any:
    """``load(name)`` (a ``from_pretrained``), with a model that cannot be found or read turned into
    one line naming it (``FileNotFoundError``) instead of the loader's traceback."""
    try:
        return load(name)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileNotFoundError(f"cannot load the model {name!r}: {reason}") from None
