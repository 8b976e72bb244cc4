"""Timing features from subtitle start/end times (MELD's StartTime/EndTime)."""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from dialoggraph.data.errors import DialogueValidationError

_TIME = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*$")


def parse_timestamp(text: str) -> float:
    """``"00:16:16,059"`` (or ``"0:16:16,059"``) -> seconds."""
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"not a h:mm:ss,ms timestamp: {text!r}")
    h, m, s, ms = match.groups()
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000.0


def timing_features(starts: Sequence[str], ends: Sequence[str], texts: Sequence[str],
                    source: str = "timing") -> np.ndarray:
    """``[n, 3]`` float32: log(1 + duration s), log(1 + words per second), log(1 + words).

    Durations below zero (subtitle glitches, present in MELD) are clamped to 0;
    words per second is 0 when the duration is 0. ``source`` names the data in
    errors (a row index is added).
    """
    out = np.zeros((len(texts), 3), dtype=np.float32)
    for row, (start, end, text) in enumerate(zip(starts, ends, texts)):
        try:
            duration = max(0.0, parse_timestamp(end) - parse_timestamp(start))
        except ValueError as exc:
            raise DialogueValidationError(f"{source}, row {row}: {exc}") from None
        words = len(text.split())
        rate = words / duration if duration > 0 else 0.0
        out[row] = (np.log1p(duration), np.log1p(rate), np.log1p(words))
    return out
