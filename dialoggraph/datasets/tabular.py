"""Row-per-utterance tables (CSV + row-aligned arrays) -> dialogues."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import make_dialogue
from dialoggraph.data.errors import DialogueValidationError


def check_features(array: np.ndarray, path: str, num_rows: int,
                   where: Callable[[int], str] | None = None) -> np.ndarray:
    """A row-aligned feature array: 2-D float, ``num_rows`` rows, finite. A bad row is named by
    ``where(row)`` (e.g. the CSV line and dialogue), else by its 0-based index."""
    if array.ndim != 2:
        raise DialogueValidationError(f"{path}: expected a [rows, features] array, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise DialogueValidationError(f"{path}: expected float16/float32 features, got {array.dtype}")
    if array.shape[0] != num_rows:
        raise DialogueValidationError(
            f"{path}: {array.shape[0]} feature rows but the table has {num_rows} rows")
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise DialogueValidationError(f"{path}: the row of {where(row) if where else f'row {row}'} has a "
                                      f"non-finite value (NaN/Inf)")
    return array


def group_rows(keys: Sequence[Any], where: Callable[[int], str] | None = None) -> list[tuple[Any, np.ndarray]]:
    """Row indices of each dialogue, dialogues in order of first appearance, rows in file order.

    With ``where`` (a row's description for errors) a dialogue's rows must be contiguous: a
    dialogue id that reappears after another dialogue is refused, not silently merged.
    """
    groups: dict[Any, list[int]] = {}
    previous = None
    for row, key in enumerate(keys):
        if where is not None and key != previous and key in groups:
            raise DialogueValidationError(
                f"{where(row)}: dialogue {key!r} reappears after dialogue {previous!r}; a dialogue's rows must "
                f"be contiguous (a reused id?)")
        groups.setdefault(key, []).append(row)
        previous = key
    return [(key, np.asarray(rows)) for key, rows in groups.items()]


def build_dialogues(groups: list[tuple[Any, np.ndarray]], speakers: Sequence[Any],
                    labels: Sequence[Any], features: dict[str, np.ndarray],
                    label_names: Sequence[str], source: str,
                    speaker_global: np.ndarray | None = None,
                    extra: dict[str, np.ndarray] | None = None) -> list[HeteroData]:
    """One :func:`make_dialogue` per group; errors name ``source`` and the dialogue."""
    out = []
    for key, rows in groups:
        try:
            data = make_dialogue(
                [speakers[r] for r in rows], [labels[r] for r in rows], str(key),
                labels=label_names,
                speaker_global=None if speaker_global is None else speaker_global[rows],
                **{m: array[rows] for m, array in features.items()})
        except DialogueValidationError as exc:
            raise DialogueValidationError(f"{source}: {exc}") from None
        for name, values in (extra or {}).items():
            data["utterance"][name] = values[rows]
        out.append(data)
    return out
