"""The training curves of a run folder: ``curves.png`` / ``.svg`` from its ``log.jsonl``, and the
callback that draws them when a run ends."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Sequence

import numpy as np

from dialoggraph.extras import MissingExtraError
from dialoggraph.plotting import pyplot, save_figure
from dialoggraph.train.trainer import Callback, Trainer


def read_log(path: str) -> list[dict[str, Any]]:
    """The epochs of a run's ``log.jsonl``."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def training_curves_figure(log: Sequence[dict[str, Any]], title: str = ""):
    """Train loss and dev accuracy / weighted / macro F1 per epoch; a star marks the best dev
    weighted F1, the epoch early stopping keeps."""
    plt = pyplot("the training-curves figure")
    epochs = [r["epoch"] for r in log]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    left.plot(epochs, [r["train_loss"] for r in log], "o-", ms=3)
    left.set_xlabel("epoch")
    left.set_ylabel("train loss")
    left.grid(alpha=0.3)
    for key in ("val_accuracy", "val_weighted_f1", "val_macro_f1"):
        right.plot(epochs, [100 * r[key] for r in log], "o-", ms=3, label=key.replace("val_", "dev ").replace("_", " "))
    scores = [r["val_weighted_f1"] for r in log]
    best = int(np.argmax(scores))
    right.plot(epochs[best], 100 * scores[best], "*", color="black", ms=12, label=f"best (epoch {epochs[best]})")
    right.set_xlabel("epoch")
    right.set_ylabel("%")
    right.legend(fontsize=7)
    right.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def write_training_curves(run_dir: str, title: str = "") -> list[str]:
    """``RUN_DIR/curves.png`` and ``.svg`` from ``RUN_DIR/log.jsonl``."""
    return save_figure(training_curves_figure(read_log(os.path.join(run_dir, "log.jsonl")), title),
                       os.path.join(run_dir, "curves"))


class Curves(Callback):
    """``curves.png`` / ``.svg`` of ``folder/log.jsonl`` when the run ends (the ``plot`` extra;
    without it a note says so, unless ``quiet``)."""

    def __init__(self, folder: str, quiet: bool = False):
        self.folder, self.quiet = folder, quiet

    def on_fit_end(self, trainer: Trainer, result: dict[str, Any]) -> None:
        if trainer.rank != 0 or not os.path.exists(os.path.join(self.folder, "log.jsonl")):
            return
        try:
            write_training_curves(self.folder, f"{trainer.model_spec}, seed {trainer.config.seed}")
        except MissingExtraError as exc:
            if not self.quiet:
                print(f"curves.png not drawn: {exc}", file=sys.stderr)
