"""matplotlib for the figures (the ``plot`` extra): pyplot on a file-only backend, and atomic saving."""
from __future__ import annotations

import io
from typing import Sequence

from dialoggraph.extras import require
from dialoggraph.io import atomic_write


def pyplot(what: str):
    """matplotlib's pyplot on the file-only Agg backend, or one line naming the ``plot`` extra."""
    matplotlib = require("matplotlib", "plot", what)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", "plot", what)


def save_figure(fig, path_stem: str, formats: Sequence[str] = ("png", "svg")) -> list[str]:
    """Write ``fig`` to ``path_stem.<format>`` for each format (atomically) and close it."""
    plt = pyplot("saving a figure")
    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight")
        path = f"{path_stem}.{fmt}"
        atomic_write(path, lambda f: f.write(buffer.getvalue()))
        paths.append(path)
    plt.close(fig)
    return paths
