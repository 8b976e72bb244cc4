"""Progress of a long stage: a bar on a terminal, two lines in a log."""
from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, enabled: bool = True, total: int | None = None,
             leave: bool = True) -> Iterable[T]:
    """``items``, reporting progress on stderr: a tqdm bar when stderr is a terminal; otherwise (a
    log file, a CI job) one line when the stage starts and one when it ends, never a bar's
    carriage returns.

    Args:
        items: what the stage iterates over.
        desc: the stage's name.
        enabled: ``False`` says nothing (``--quiet``).
        total: the number of items, when ``items`` has no ``len``.
        leave: keep the finished bar on a terminal.

    Example:
        >>> list(progress(range(3), "squares", enabled=False))
        [0, 1, 2]
    """
    if not enabled:
        return items
    if sys.stderr.isatty():
        return tqdm(items, desc=desc, total=total, leave=leave)
    return _logged(items, desc, total if total is not None else len(items) if hasattr(items, "__len__") else None)


def _logged(items: Iterable[T], desc: str, total: int | None) -> Iterator[T]:
    print(f"{desc}: {'' if total is None else f'{total} '}to do", file=sys.stderr, flush=True)
    start, count = time.perf_counter(), 0
    for item in items:
        count += 1
        yield item
    print(f"{desc}: {count} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
