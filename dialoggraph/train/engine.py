"""Fitting and evaluating any registered model: checkpoints, early stopping, resume, seeds, DDP."""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Subset
from torch_geometric.loader import DataLoader
from tqdm import tqdm

import dialoggraph
from dialoggraph.config import ConfigError, TypedConfig, from_dict, to_dict
from dialoggraph.data.dialogue import NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.extras import MissingExtraError, require
from dialoggraph.io import atomic_write, atomic_write_json, writable_folder
from dialoggraph.models.base import DialogueModel, ModelConfig
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import model_spec, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dialoggraph.train.metrics import classification_metrics


@dataclass
class TrainConfig(TypedConfig):
    """How a model is fitted (the model's own hyper-parameters live in its ``Config``).

    Early stopping watches validation weighted F1; the test split is evaluated once,
    with the best validation epoch's weights.
    """

    epochs: int = 100
    """Most epochs to train."""
    batch_size: int = 16
    """Dialogues per batch (under DDP the global batch, divided across the processes)."""
    lr: float | None = None
    """AdamW learning rate (None: the model's recommended ``optimizer["lr"]``, its paper's)."""
    weight_decay: float | None = None
    """AdamW weight decay (None: the model's recommended ``optimizer["weight_decay"]``)."""
    grad_clip: float = 5.0
    """Clip the gradient norm to this (0: no clipping)."""
    patience: int = 10
    """Stop after this many epochs without a better validation weighted F1."""
    scheduler: Literal["none", "cosine", "step"] = "none"
    """Learning-rate schedule (set per optimizer step): constant, cosine annealing to 0 over
    ``epochs``, or steps of ``lr_gamma``."""
    lr_warmup_epochs: float = 0.0
    """Linear learning-rate warm-up over this many epochs (per step, from ``lr / steps`` to ``lr``;
    0: none); the schedule's factor multiplies it."""
    lr_step_epochs: int = 10
    """``scheduler="step"``: multiply the learning rate by ``lr_gamma`` every this many epochs."""
    lr_gamma: float = 0.95
    """``scheduler="step"``: the factor of each step."""
    seed: int = 0
    """Seed of the weights' initialisation, the shuffling and dropout."""
    deterministic: bool = False
    """Ask torch for deterministic kernels."""
    device: str = "cpu"
    """Where to train: cpu, cuda, cuda:1, ..."""
    quiet: bool = False
    """No progress bars or epoch lines."""
    precision: Literal["32", "bf16", "fp16"] = "32"
    """Training steps in float32, or under ``torch.autocast`` in bfloat16 / float16 (fp16 with a
    gradient scaler); weights, optimizer and evaluation stay float32."""
    compile: bool = False
    """Train through ``torch.compile(model, dynamic=True)``, compiled on the first batch; a later
    batch that would need a new compilation runs eagerly (evaluation runs the model as written)."""
    curves: bool = True
    """Draw ``curves.png`` / ``.svg`` (train loss, dev scores per epoch) in the run folder when the
    run ends (needs the ``plot`` extra; without it a note says so)."""
    tensorboard: bool = False
    """Also log the epoch scalars (train loss, learning rate, dev accuracy / weighted / macro F1) to
    ``OUT/tensorboard`` for TensorBoard (the ``tensorboard`` extra)."""

    def check(self) -> None:
        if self.epochs < 0 or self.batch_size < 1 or self.patience < 1 or self.lr_step_epochs < 1 or \
                self.lr_warmup_epochs < 0:
            self.fail("epochs, lr_warmup_epochs must be >= 0 and batch_size, patience, lr_step_epochs >= 1")


def lr_factor(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) as a fraction of ``config.lr``: the
    linear warm-up over ``lr_warmup_epochs`` times the ``scheduler``'s factor at that point,
    ``(1 + cos(pi t / epochs)) / 2`` (cosine) or ``lr_gamma ** (epoch // lr_step_epochs)`` (step),
    with ``t = step / steps_per_epoch`` the epochs done."""
    done = step / max(steps_per_epoch, 1)
    warm = config.lr_warmup_epochs * steps_per_epoch
    factor = min(1.0, (step + 1) / warm) if warm > 0 else 1.0
    if config.scheduler == "cosine":
        factor *= 0.5 * (1.0 + math.cos(math.pi * min(done, config.epochs) / max(config.epochs, 1)))
    elif config.scheduler == "step":
        factor *= config.lr_gamma ** (int(done) // config.lr_step_epochs)
    return factor


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, numpy and torch; in deterministic mode also ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def dataset_dims(dataset) -> dict[str, int]:
    """Feature size per modality of a dataset (its ``meta["feature_dims"]``, else its first dialogue's)."""
    dims = getattr(dataset, "meta", {}).get("feature_dims") if hasattr(dataset, "meta") else None
    if dims:
        return dict(dims)
    store = dataset[0][NODE]
    return {key[2:]: int(store[key].size(-1)) for key in store.keys() if key.startswith("x_")}


def build_model(model: DialogueModel | type | str, in_dims: dict[str, int], num_classes: int,
                config: ModelConfig | None = None) -> DialogueModel:
    """``model`` itself if it is an instance, else the class it names (:func:`resolve_model`) built
    with ``config`` (default: the class's default config on the modalities ``in_dims`` has)."""
    if isinstance(model, torch.nn.Module):
        if not isinstance(model, DialogueModel):
            raise TypeError(f"{type(model).__name__} is not a dialoggraph.models.DialogueModel")
        return model
    cls = resolve_model(model)
    return cls(in_dims, num_classes, config if config is not None else cls.default_config(in_dims))


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW parameter groups: weight decay on every parameter except those the model
    regularises itself (its optional ``no_weight_decay()`` list, e.g. MDGET-MER's gates
    under eq. 40's L2), so no weight is regularised twice. A model without such weights
    gets one group, as before, so its earlier checkpoints still resume."""
    excluded = {id(p) for p in getattr(model, "no_weight_decay", lambda: [])()}
    params = list(model.parameters())
    groups = [{"params": [p for p in params if id(p) not in excluded], "weight_decay": weight_decay}]
    if excluded:
        groups.append({"params": [p for p in params if id(p) in excluded], "weight_decay": 0.0})
    return groups


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """The trainer's AdamW over :func:`parameter_groups`: the fused implementation (one kernel
    for every parameter, no per-parameter host reads) where every parameter is a floating tensor
    on a CPU or CUDA device, else the multi-tensor one."""
    params = [p for p in model.parameters() if p.requires_grad]
    fused = bool(params) and all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(parameter_groups(model, config.weight_decay), lr=config.lr,
                             weight_decay=config.weight_decay, fused=fused or None, foreach=None if fused else True)


def training_loss(output: ModelOutput, y: torch.Tensor) -> torch.Tensor:
    """``ce_weight`` x cross-entropy on labelled utterances plus the auxiliary losses."""
    keep = y >= 0
    loss = F.cross_entropy(output.logits[keep], y[keep]) if bool(keep.any()) else output.logits.sum() * 0.0
    loss = output.ce_weight * loss
    for value in output.aux_losses.values():
        loss = loss + value
    return loss


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, batch_size: int = 32, device: str = "cpu",
            quiet: bool = True, perturb: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Class probabilities for every utterance of ``dataset``, in dataset order.

    Returns ``probs`` ``[N, C]``, ``y`` ``[N]``, the ``dialogues``' ids, each dialogue's
    ``speakers`` (names per utterance) and ``modality_probs`` (``{modality: [N, C]}``, from the
    model's per-modality heads where it has them). ``perturb(batch) -> batch`` is applied to
    every batch before the model reads it (test-time noise or a missing modality).
    Under DDP each rank predicts a strided share of the dialogues and the shares
    are gathered, so every rank returns the whole result.
    """
    model = _unwrap(model)
    model.eval()
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    indices = list(range(rank, len(dataset), world))
    loader = DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False)
    probs, ys, ids, speakers, heads = [], [], [], [], []
    for batch in tqdm(loader, desc="predict", disable=quiet or not sys.stderr.isatty(), leave=False):
        batch = batch.to(device)
        counts = torch.bincount(batch[NODE].batch, minlength=batch.num_graphs).tolist()
        ys += list(batch[NODE].y.cpu().split(counts))
        ids += list(batch.dialogue_id)
        speakers += [[names[s] for s in local.tolist()]
                     for names, local in zip(batch.speaker_names, batch[NODE].speaker.cpu().split(counts))]
        output = model(perturb(batch) if perturb is not None else batch)
        probs += list(torch.softmax(output.logits, dim=-1).cpu().split(counts))
        split = {m: torch.softmax(lm, dim=-1).cpu().split(counts) for m, lm in output.modality_logits.items()}
        heads += [{m: parts[k] for m, parts in split.items()} for k in range(batch.num_graphs)]
    shares = distributed.gather((indices, probs, ys, ids, speakers, heads))
    order = {}
    for share in shares:
        for k, index in enumerate(share[0]):
            order[index] = tuple(part[k] for part in share[1:])
    ranked = [order[i] for i in range(len(dataset))]
    modalities = list(ranked[0][4]) if ranked else []
    return {"probs": torch.cat([r[0] for r in ranked]).numpy() if ranked else np.zeros((0, 0)),
            "y": torch.cat([r[1] for r in ranked]).numpy() if ranked else np.zeros(0, dtype=int),
            "dialogues": [r[2] for r in ranked], "speakers": [r[3] for r in ranked],
            "modality_probs": {m: torch.cat([r[4][m] for r in ranked]).numpy() for m in modalities}}


def evaluate(model: torch.nn.Module, dataset, label_names: Sequence[str], batch_size: int = 32,
             device: str = "cpu") -> dict[str, Any]:
    out = predict(model, dataset, batch_size, device)
    return classification_metrics(out["y"], out["probs"].argmax(-1), label_names)


RUN_FILES = ("best.pt", "last.pt", "log.jsonl", "metrics.json", "curves.png", "curves.svg", "tensorboard")


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """The seed every RNG is reset to before ``epoch``: a function of (seed, epoch, rank) only,
    so a run resumed from the checkpoint of epoch ``k`` draws exactly what it would have drawn."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


def check_device(device: str) -> None:
    """Refuse a device this machine or torch build does not have, in one line."""
    kind = torch.device(device).type
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r}: this torch build sees no CUDA GPU "
                          f"(torch {torch.__version__}, torch.cuda.is_available() is False); use --device cpu")
    if kind == "cuda" and torch.device(device).index is not None and \
            torch.device(device).index >= torch.cuda.device_count():
        raise ConfigError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {device!r}: MPS is not available here")


def labelled_count(dataset) -> int:
    """How many labelled utterances (``y >= 0``) a dataset holds."""
    store = getattr(dataset, "_data", None)
    if store is not None and getattr(dataset, "_indices", None) is None:     # a whole InMemoryDataset
        return int((store[NODE].y >= 0).sum())
    return sum(int((d[NODE].y >= 0).sum()) for d in dataset)


def check_split(dataset, name: str, model: DialogueModel, label_names: Sequence[str], labelled: bool) -> None:
    """A split the model can read: non-empty, the model's modalities at the training widths, the
    same label set, and (``labelled``) at least one label; one line naming what differs."""
    if len(dataset) == 0:
        raise DialogueValidationError(f"the {name} split is empty" + (
            " (without a dev file, 10% of the training dialogues are held out as dev: give at least two "
            "dialogues or a dev file)" if name == "dev" else ""))
    dims = dataset_dims(dataset)
    for m in model.modalities:
        if m not in dims:
            raise DialogueValidationError(f"the {name} split has no {m!r} features (it has {', '.join(dims)}); "
                                          f"the model reads {', '.join(model.modalities)}")
        if dims[m] != model.in_dims[m]:
            raise DialogueValidationError(
                f"the {name} split's {m!r} features are {dims[m]} wide, the model's {model.in_dims[m]}: "
                f"featurized differently from training")
    names = getattr(dataset, "label_names", None)
    if names is not None and list(names) != list(label_names):
        raise DialogueValidationError(f"the {name} split's labels {list(names)} differ from training's "
                                      f"{list(label_names)}")
    if labelled and labelled_count(dataset) == 0:
        raise DialogueValidationError(f"the {name} split has no labelled utterance")


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


def resolve_optimizer(config: TrainConfig, model: type[DialogueModel]) -> TrainConfig:
    """``config`` with an unset ``lr`` / ``weight_decay`` replaced by the model's recommendation
    (``Model.optimizer``): the values a run really uses, as its checkpoints and config.yaml record."""
    return replace(config, lr=config.lr if config.lr is not None else model.optimizer["lr"],
                   weight_decay=config.weight_decay if config.weight_decay is not None
                   else model.optimizer["weight_decay"])


class Trainer:
    """Fits one model on one seed: ``Trainer(model, train_set, val_set, TrainConfig(...)).fit()``.

    Everything that can be checked is checked here, before the first epoch: the device, the
    splits (non-empty, the model's modalities at the training widths, one label set, dev
    labelled), the output folder (writable; an earlier run in it is refused unless
    ``overwrite`` or ``resume``).

    Training is resume-exact: before each epoch every RNG (Python, numpy, torch, the data
    order) is reset to :func:`epoch_seed` ``(seed, epoch, rank)``, and ``last.pt`` holds the
    weights, optimizer and early-stopping state after each epoch (the learning-rate
    schedule is a function of the step), so a run killed
    at any point and resumed from its ``last.pt`` ends with the same weights, bit for bit on
    CPU, as one that was never interrupted (tested).

    Args:
        model: a :class:`~dialoggraph.models.DialogueModel` instance, or a model class or
            registered name / import path (``pkg.module:Class``), built here after seeding
            with ``model_config`` (default: its default config on the data's modalities).
        train_set, val_set: datasets of dialogues (a dialoggraph dataset or any sequence of
            ``HeteroData`` built with the model's ``pre_transform``).
        config: :class:`TrainConfig`; its unset ``lr`` / ``weight_decay`` become the model's
            recommended ones (``Model.optimizer``), and ``self.config`` holds the values used.
            Under DDP ``batch_size`` is the global batch, divided across the processes.
        model_config: the config a class or name is built with.
        label_names: the emotions, index = class id (default: ``train_set.label_names``).
        out_dir: folder for checkpoints and logs (rank 0 only): ``best.pt`` (best
            validation epoch), ``last.pt`` (to resume), ``log.jsonl`` (one line per epoch)
            and ``metrics.json`` = ``{"val": ..., "test": ..., "best_epoch": e, ...}``.
            Checkpoints hold the weights, optimizer, model (registered name or import path)
            and both configs, label names, input sizes, ``run`` and the dialoggraph
            version, and are written atomically. Without it nothing is written.
        overwrite: replace an earlier run's files in ``out_dir``.
        resume: a ``last.pt`` to continue from (the model and labels must match).
        run: JSON-able facts about the run stored in every checkpoint (the CLI stores the
            dataset config there, so ``evaluate`` / ``predict`` / ``--resume`` reuse it).
    """

    def __init__(self, model: DialogueModel | type | str, train_set, val_set, config: TrainConfig | None = None, *,
                 model_config: ModelConfig | None = None, label_names: Sequence[str] | None = None,
                 out_dir: str | None = None, overwrite: bool = False, resume: str | None = None,
                 run: dict[str, Any] | None = None):
        config = config or TrainConfig()
        check_device(config.device)
        self.train_set, self.val_set = train_set, val_set
        self.out_dir, self.run = out_dir, dict(run or {})
        self.rank, self.world = distributed.init_distributed(config.device)
        if config.batch_size % self.world:
            raise ConfigError(f"batch_size {config.batch_size} is the global batch: it must divide evenly "
                              f"across {self.world} processes")
        set_seed(config.seed, config.deterministic)       # the initial weights (DDP copies rank 0's)
        names = label_names if label_names is not None else getattr(train_set, "label_names", None)
        if names is None and not isinstance(model, torch.nn.Module):
            raise ValueError("label_names are needed: the training set has no label_names")
        in_dims = dataset_dims(train_set) if not isinstance(model, torch.nn.Module) else {}
        model = build_model(model, in_dims, len(names) if names is not None else 0, model_config)
        self.label_names = list(names) if names is not None else [str(c) for c in range(model.num_classes)]
        if len(self.label_names) != model.num_classes:
            raise ValueError(f"{len(self.label_names)} label names for a model of {model.num_classes} classes")
        check_split(train_set, "train", model, self.label_names, labelled=True)
        check_split(val_set, "dev", model, self.label_names, labelled=True)
        if out_dir and self.rank == 0:
            prepare_out_dir(out_dir, overwrite, resuming=resume is not None)
        self.tensorboard = None
        if config.tensorboard and out_dir and self.rank == 0:
            require("tensorboard", "tensorboard", "--tensorboard")
            from torch.utils.tensorboard import SummaryWriter
            self.tensorboard = SummaryWriter(os.path.join(out_dir, "tensorboard"))
        self.model_spec = model_spec(type(model))
        self.in_dims = dict(model.in_dims)
        self.config = config = resolve_optimizer(config, type(model))
        self.model = model.to(config.device)
        self.optimizer = make_optimizer(self.model, config)
        if self.world > 1:
            self.model = torch.nn.parallel.DistributedDataParallel(self.model)
        self.runner = torch.compile(self.model, dynamic=True) if config.compile else self.model
        self.compiled = False        # under --compile: whether the first step has compiled the model
        # Only float16 needs loss scaling; for the others the scaler passes everything through.
        self.scaler = torch.amp.GradScaler(torch.device(config.device).type, enabled=config.precision == "fp16")
        self.epoch = 0
        self.best_score = -1.0
        self.best_epoch = -1
        self.bad_epochs = 0
        self._best_weights: dict[str, torch.Tensor] | None = None
        if resume is not None:
            self._restore(resume)

    # -- checkpoints -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        model = _unwrap(self.model)
        return {"model": self.model_spec, "model_config": to_dict(model.config),
                "train_config": to_dict(self.config), "label_names": self.label_names,
                "in_dims": self.in_dims, "run": self.run, "model_state": model.state_dict(),
                "optimizer_state": self.optimizer.state_dict(),
                "epoch": self.epoch, "best_score": self.best_score, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "version": dialoggraph.__version__}

    def _restore(self, path: str) -> None:
        state = load_checkpoint(path, self.config.device)
        check_compatible(state, self.model_spec, self.label_names, path)
        try:
            _unwrap(self.model).load_state_dict(state["model_state"])
        except RuntimeError as exc:
            raise CheckpointError(f"{path}: weights do not fit the model ({str(exc).splitlines()[0]}); resume "
                                  f"with the checkpoint's own config (dialoggraph train --resume {path})") from None
        self.optimizer.load_state_dict(state["optimizer_state"])      # the schedule is a function of the step
        self.epoch, self.best_score = state["epoch"], state["best_score"]
        self.best_epoch, self.bad_epochs = state["best_epoch"], state["bad_epochs"]
        log = self._path("log.jsonl")
        if log and self.rank == 0 and os.path.exists(log):      # drop lines of epochs after the checkpoint
            with open(log) as f:
                kept = [line for line in f if line.strip() and json.loads(line)["epoch"] <= self.epoch]
            atomic_write(log, lambda f: f.write("".join(kept).encode()))

    def _path(self, name: str) -> str | None:
        return os.path.join(self.out_dir, name) if self.out_dir else None

    # -- training --------------------------------------------------------
    def _autocast(self):
        """``torch.autocast`` at ``precision`` on the training device (a no-op for 32)."""
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.config.precision)
        return torch.autocast(torch.device(self.config.device).type, dtype=dtype, enabled=dtype is not None)

    def _compile_stance(self):
        """Under ``--compile``, after the first step: use the compiled code where its guards hold
        and run eagerly where a batch would need a new compilation. Shapes are dynamic, but
        DAG-ERC's and LFVD's walks unroll per batch structure (the levels' sizes), and each new
        structure would otherwise cost a compilation of minutes on CPU."""
        if not self.config.compile:
            return contextlib.nullcontext()
        return torch.compiler.set_stance("eager_on_recompile" if self.compiled else "default")

    def _train_epoch(self, loader: DataLoader) -> tuple[float, int]:
        """One pass over the training set: the mean loss per dialogue and the optimizer steps taken.
        Each step's learning rate is :func:`lr_factor` of the step counted from the first epoch."""
        self.model.train()
        total, count, steps = 0.0, 0, 0
        per_epoch = len(loader)
        bar = tqdm(loader, desc=f"epoch {self.epoch + 1}/{self.config.epochs}", leave=False,
                   disable=self.config.quiet or not sys.stderr.isatty() or self.rank != 0)
        for step, batch in enumerate(bar):
            batch = batch.to(self.config.device)
            with self._autocast(), self._compile_stance():
                loss = training_loss(self.runner(batch), batch[NODE].y)
            self.compiled = self.config.compile
            if not torch.isfinite(loss):        # stop before a NaN reaches the weights and the checkpoints
                raise FloatingPointError(f"training loss is {loss.item()} at epoch {self.epoch + 1}, step {step + 1}; "
                                         "lower --lr or check the features (the saved checkpoints are untouched)")
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            if self.config.grad_clip:
                self.scaler.unscale_(self.optimizer)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            lr = self.config.lr * lr_factor(self.config, self.epoch * per_epoch + step, per_epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.scaler.step(self.optimizer)
            self.scaler.update()
            steps += 1
            total += loss.detach().item() * batch.num_graphs
            count += batch.num_graphs
            bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
        return total / max(count, 1), steps

    def fit(self, test_set=None, on_epoch: Callable[[int, dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Train with early stopping on validation weighted F1, restore the best epoch's weights,
        evaluate the validation set and (once) ``test_set``; returns those metrics. A test split
        without labels is checked like the others and its metrics are skipped, with a note.
        ``on_epoch(epoch, val_metrics)`` is called after each epoch (after its checkpoint); an
        exception it raises stops the run there (how ``dialoggraph tune`` prunes a trial)."""
        if test_set is not None:
            check_split(test_set, "test", _unwrap(self.model), self.label_names, labelled=False)
        train_set, val_set = self.train_set, self.val_set
        sampler = torch.utils.data.distributed.DistributedSampler(
            train_set, shuffle=True, seed=self.config.seed) if self.world > 1 else None
        generator = torch.Generator()
        loader = DataLoader(train_set, batch_size=self.config.batch_size // self.world, shuffle=sampler is None,
                            sampler=sampler, generator=generator if sampler is None else None)
        model = _unwrap(self.model)
        if self.epoch == 0 and self.config.epochs > 0:
            start = time.time()
            facts = model.fit_outright(train_set, val_set)
            if facts is not None:          # fitted outright: that is the run's one epoch
                self._end_epoch(facts.pop("train_loss", float("nan")), 0, start, on_epoch, final=True, facts=facts)
        while self.epoch < self.config.epochs and self.bad_epochs < self.config.patience:
            set_seed(epoch_seed(self.config.seed, self.epoch, self.rank), self.config.deterministic)
            generator.manual_seed(epoch_seed(self.config.seed, self.epoch))
            if sampler is not None:
                sampler.set_epoch(self.epoch)
            model.set_epoch(self.epoch)
            start = time.time()
            train_loss, steps = self._train_epoch(loader)
            self._end_epoch(train_loss, steps, start, on_epoch)
        return self.finish(val_set, test_set)

    def _end_epoch(self, train_loss: float, steps: int, start: float,
                   on_epoch: Callable[[int, dict[str, Any]], None] | None, final: bool = False,
                   facts: dict[str, Any] | None = None) -> None:
        """Evaluate dev after an epoch, keep the best weights, write the log line and checkpoints,
        print the epoch line and call ``on_epoch``. ``final``: no epoch follows (an outright fit),
        also after a resume; ``facts`` join the log line."""
        val_metrics = evaluate(self.model, self.val_set, self.label_names, device=self.config.device)
        self.epoch += 1
        improved = val_metrics["weighted_f1"] > self.best_score
        if improved:
            self.best_score, self.best_epoch, self.bad_epochs = val_metrics["weighted_f1"], self.epoch, 0
            self._best_weights = {k: v.detach().clone() for k, v in _unwrap(self.model).state_dict().items()}
        else:
            self.bad_epochs += 1
        if final:
            self.bad_epochs = self.config.patience
        if self.out_dir and self.rank == 0:
            # The log line first: a kill between the two leaves a log the resume trims back.
            with open(self._path("log.jsonl"), "a") as f:
                f.write(json.dumps({"epoch": self.epoch, "train_loss": train_loss, "steps": steps,
                                    "val_accuracy": val_metrics["accuracy"],
                                    "val_weighted_f1": val_metrics["weighted_f1"],
                                    "val_macro_f1": val_metrics["macro_f1"],
                                    "seconds": round(time.time() - start, 2), **(facts or {})}) + "\n")
            state = self.state()
            if improved:
                save_checkpoint(self._path("best.pt"), state)
            save_checkpoint(self._path("last.pt"), state)
        if self.tensorboard is not None:
            scalars = {"train/loss": train_loss, "train/lr": self.optimizer.param_groups[0]["lr"],
                       **{f"dev/{k}": val_metrics[k] for k in ("accuracy", "weighted_f1", "macro_f1")}}
            for tag, value in scalars.items():
                self.tensorboard.add_scalar(tag, value, self.epoch)
            self.tensorboard.flush()
        if self.rank == 0 and not self.config.quiet:
            print(f"epoch {self.epoch:3d}  loss {train_loss:.4f}  val acc {val_metrics['accuracy']:.4f}  "
                  f"val wF1 {val_metrics['weighted_f1']:.4f}{'  *' if improved else ''}", file=sys.stderr)
        if on_epoch is not None:
            on_epoch(self.epoch, val_metrics)
        distributed.barrier()

    def finish(self, val_set, test_set) -> dict[str, Any]:
        """Restore the best epoch's weights, evaluate val and (once) test, write ``metrics.json``."""
        best = self._path("best.pt")
        if self._best_weights is not None:
            _unwrap(self.model).load_state_dict(self._best_weights)
        elif best and os.path.exists(best):                  # a resumed run whose best epoch came before
            _unwrap(self.model).load_state_dict(load_checkpoint(best, self.config.device)["model_state"])
        result = {"model": self.model_spec, "seed": self.config.seed, "best_epoch": self.best_epoch,
                  "epochs_run": self.epoch,
                  "val": evaluate(self.model, val_set, self.label_names, device=self.config.device)}
        if test_set is not None:
            if labelled_count(test_set):
                result["test"] = evaluate(self.model, test_set, self.label_names, device=self.config.device)
            else:
                result["test"] = None
                result["notes"] = ["the test split has no labels: no test metrics (predict gives its predictions)"]
        if self.out_dir and self.rank == 0:
            atomic_write_json(self._path("metrics.json"), result)
            if self.config.curves and os.path.exists(self._path("log.jsonl")):
                self._draw_curves()
        if self.tensorboard is not None:
            self.tensorboard.close()
        return result

    def _draw_curves(self) -> None:
        from dialoggraph.analysis.figures import write_training_curves
        try:
            write_training_curves(self.out_dir, f"{self.model_spec}, seed {self.config.seed}")
        except MissingExtraError as exc:
            if not self.config.quiet:
                print(f"curves.png not drawn: {exc}", file=sys.stderr)


def check_compatible(state: dict[str, Any], model: str | None, label_names: Sequence[str] | None,
                     path: str) -> None:
    """Refuse a checkpoint of another model or label set, with one clear message."""
    if model is not None and state["model"] != model:
        raise CheckpointError(f"{path}: a checkpoint of model {state['model']!r}, not {model!r}")
    if label_names is not None and list(state["label_names"]) != list(label_names):
        raise CheckpointError(f"{path}: trained on labels {state['label_names']}, but the data has "
                              f"{list(label_names)}")


def model_from_checkpoint(path: str, device: str = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild the model a checkpoint holds (in eval mode) and return it with the checkpoint."""
    state = load_checkpoint(path, device)
    cls = resolve_model(state["model"])
    version = tuple(int(part) for part in str(state.get("version", "0.1")).split(".")[:2])
    config = from_dict(cls.Config, state["model_config"], path, legacy=version < (0, 2))
    model = cls(state["in_dims"], len(state["label_names"]), config).to(device)
    try:
        model.load_state_dict(state["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the model ({str(exc).splitlines()[0]})") from None
    return model.eval(), state
