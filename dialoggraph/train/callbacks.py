"""What a run does around the training loop, as :class:`~dialoggraph.train.trainer.Callback` s:
its folder's files (``log.jsonl``, ``best.pt`` / ``last.pt``, ``metrics.json``, curves,
TensorBoard) and its console output (the epoch line, a progress bar)."""
from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any, Sequence

from tqdm import tqdm

from dialoggraph.extras import require
from dialoggraph.io import atomic_write, atomic_write_json, writable_folder
from dialoggraph.train.checkpoint import save_checkpoint
from dialoggraph.train.curves import Curves
from dialoggraph.train.metrics import METRICS
from dialoggraph.train.trainer import Callback, Trainer, TrainConfig

RUN_FILES = ("best.pt", "last.pt", "log.jsonl", "metrics.json", "curves.png", "curves.svg", "tensorboard")
"""The files a run writes in its folder."""


def prepare_out_dir(path: str, overwrite: bool, resuming: bool, names: Sequence[str] = RUN_FILES) -> None:
    """Create ``path``, check it is writable, remove the temporary files of killed writes, and
    refuse to replace an earlier run's ``names`` (files or folders) unless ``overwrite`` (they
    are then removed) or the run is resumed there."""
    writable_folder(path)
    for name in os.listdir(path):          # temporary files and folders of a write that was killed (never read)
        if name.startswith((".tmp-", ".old-")):
            target = os.path.join(path, name)
            shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
    existing = sorted(f for f in names if os.path.exists(os.path.join(path, f)))
    if existing and not resuming:
        if not overwrite:
            raise FileExistsError(f"{path} holds a run ({', '.join(existing)}): pass --overwrite to replace it, "
                                  f"--resume {os.path.join(path, 'last.pt')} to continue it, or another --out")
        for name in existing:
            target = os.path.join(path, name)
            shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)



class EpochLog(Callback):
    """``log.jsonl`` (one line per epoch: the trainer's record) and ``metrics.json`` (the result of
    :meth:`~dialoggraph.train.trainer.Trainer.fit`) in ``folder``, on rank 0. A resumed run first
    drops the lines of epochs after its checkpoint, so the log matches the weights."""

    def __init__(self, folder: str):
        self.path, self.metrics = os.path.join(folder, "log.jsonl"), os.path.join(folder, "metrics.json")

    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.rank == 0 and trainer.epoch > 0 and os.path.exists(self.path):
            with open(self.path) as f:
                kept = [line for line in f if line.strip() and json.loads(line)["epoch"] <= trainer.epoch]
            atomic_write(self.path, lambda f: f.write("".join(kept).encode()))

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if trainer.rank == 0:
            with open(self.path, "a") as f:
                f.write(json.dumps({k: v for k, v in record.items() if k != "improved"}) + "\n")

    def on_fit_end(self, trainer: Trainer, result: dict[str, Any]) -> None:
        if trainer.rank == 0:
            atomic_write_json(self.metrics, result)


class Checkpoints(Callback):
    """``last.pt`` after every epoch and ``best.pt`` after every better one
    (:meth:`~dialoggraph.train.trainer.Trainer.state`), written atomically on rank 0, after the
    epoch's log line (a kill between the two leaves a log the resume trims back)."""

    def __init__(self, folder: str):
        self.folder = folder

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if trainer.rank == 0:
            state = trainer.state()
            if record["improved"]:
                save_checkpoint(os.path.join(self.folder, "best.pt"), state)
            save_checkpoint(os.path.join(self.folder, "last.pt"), state)


class TensorBoardLog(Callback):
    """The epoch scalars (train loss, learning rate, dev accuracy / weighted / macro F1) in
    ``folder/tensorboard`` for TensorBoard (the ``tensorboard`` extra), on rank 0."""

    def __init__(self, folder: str):
        require("tensorboard", "tensorboard", "--tensorboard")
        from torch.utils.tensorboard import SummaryWriter
        self.writer = SummaryWriter(os.path.join(folder, "tensorboard"))

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        scalars = {"train/loss": record["train_loss"], "train/lr": record["lr"],
                   **{f"dev/{k}": record[f"val_{k}"] for k in METRICS}}
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, record["epoch"])
        self.writer.flush()

    def on_fit_end(self, trainer: Trainer, result: dict[str, Any]) -> None:
        self.writer.close()


class Console(Callback):
    """The epoch line on stderr (rank 0), ``*`` marking a better dev score."""

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if trainer.rank == 0:
            print(f"epoch {record['epoch']:3d}  loss {record['train_loss']:.4f}  val acc {record['val_accuracy']:.4f}"
                  f"  val wF1 {record['val_weighted_f1']:.4f}{'  *' if record['improved'] else ''}", file=sys.stderr)


class ProgressBar(Callback):
    """A tqdm bar over each epoch's steps with the running loss (rank 0, on a terminal)."""

    def __init__(self):
        self.bar = None

    def on_epoch_start(self, trainer: Trainer, steps: int) -> None:
        self.bar = tqdm(total=steps, desc=f"epoch {trainer.epoch + 1}/{trainer.config.epochs}", leave=False,
                        disable=not sys.stderr.isatty() or trainer.rank != 0)

    def on_batch_end(self, trainer: Trainer, loss) -> None:
        if not self.bar.disable:                 # reading the loss waits for the device: only for a shown bar
            self.bar.update()
            self.bar.set_postfix(loss=f"{float(loss):.4f}")

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()


def run_callbacks(folder: str | None, config: TrainConfig, overwrite: bool = False,
                  resuming: bool = False) -> list[Callback]:
    """The callbacks of a run: in ``folder`` (checked writable now; an earlier run there is refused
    unless ``overwrite``, removed if it is, or continued when ``resuming``) its log, checkpoints,
    metrics, curves (``config.curves``) and TensorBoard (``config.tensorboard``); unless
    ``config.quiet`` the epoch line and a progress bar."""
    from dialoggraph.train import distributed
    callbacks: list[Callback] = []
    if folder:
        if distributed.is_main():
            prepare_out_dir(folder, overwrite, resuming)
        callbacks += [EpochLog(folder), Checkpoints(folder)]
        if config.curves:
            callbacks.append(Curves(folder, config.quiet))
        if config.tensorboard and distributed.is_main():
            callbacks.append(TensorBoardLog(folder))
    if not config.quiet:
        callbacks += [Console(), ProgressBar()]
    return callbacks
