"""Optional dependencies: one clear line naming the extra to install when one is missing."""
from __future__ import annotations

import importlib
import os
import socket
from types import ModuleType
from typing import Any, Callable
from urllib.parse import urlparse


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


def hub_offline() -> str | None:
    """Why the Hugging Face hub cannot serve a download now (``None``: it can): ``HF_HUB_OFFLINE``
    is set, or a connection to its endpoint (``HF_ENDPOINT``) fails within two seconds. Without this
    look, a missing network costs a minute of the hub client's retries before its error."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=2.0).close()
    except OSError:
        return f"{endpoint.hostname} cannot be reached"
    return None


def _downloaded(name: str) -> bool:
    """Whether the hub client's cache holds a copy of the model ``name`` (or of the
    sentence-transformers model of that short name)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for repo in (name, f"sentence-transformers/{name}"):
        for file in ("config.json", "modules.json"):
            try:
                if isinstance(try_to_load_from_cache(repo, file), str):
                    return True
            except ValueError:                      # not a valid repository id
                pass
    return False


def pretrained(load: Callable[[str], Any], name: str) -> Any:
    """``load(name)`` (a ``from_pretrained``), with a model that cannot be found or read turned into
    one line naming it (``FileNotFoundError``) instead of the loader's traceback. A name that is
    neither a local folder nor downloaded before fails at once when the hub cannot serve it
    (:func:`hub_offline`)."""
    if not os.path.exists(name) and (name.startswith(("/", ".", "~")) or name.count("/") > 1):
        raise FileNotFoundError(f"cannot load the model {name!r}: no such folder")
    if not os.path.exists(name) and not _downloaded(name):
        reason = hub_offline()
        if reason:
            raise FileNotFoundError(f"cannot load the model {name!r}: it is not a local folder, no copy was "
                                    f"downloaded before, and the Hugging Face hub is unavailable ({reason}); "
                                    f"give the path of a downloaded copy")
    try:
        return load(name)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileNotFoundError(f"cannot load the model {name!r}: {reason}") from None
