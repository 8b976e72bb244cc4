"""Optional dependencies: one clear line naming the extra to install when one is missing."""
from __future__ import annotations

import importlib
from types import ModuleType


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
