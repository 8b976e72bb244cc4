"""The training loop: :class:`Trainer` fits one model on one seed; what a run does around it
(files, console, TensorBoard) is :mod:`dialoggraph.train.callbacks`."""
from __future__ import annotations

import contextlib
import math
import os
import random
import time
from dataclasses import dataclass, replace
from typing import Any, Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

import dialoggraph
from dialoggraph.config import ConfigError, TypedConfig, to_dict
from dialoggraph.data.dialogue import NODE
from dialoggraph.models.base import DialogueModel, ModelConfig
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import model_spec, resolve_model
from dialoggraph.train import distributed
from dialoggraph.train.metrics import METRICS
from dialoggraph.train.checkpoint import CheckpointError, check_compatible, load_checkpoint
from dialoggraph.train.evaluation import check_split, dataset_dims, evaluate, labelled_count, resolve_device, unwrap


@dataclass
class TrainConfig(TypedConfig):
    """How a model is fitted (the model's own hyper-parameters live in its ``Config``).

    Early stopping watches a dev metric (``monitor``, weighted F1 by default); the test split is
    evaluated once, with the best dev epoch's weights.
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
    """Stop after this many epochs without a better ``monitor`` score on dev."""
    monitor: str = "weighted_f1"
    """The dev metric that selects the best epoch and stops training early: weighted_f1, macro_f1, accuracy
    or one registered with register_metric."""
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
    """Where to train: cpu, cuda, cuda:1, ..., or auto (cuda when torch sees a GPU, else cpu)."""
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
        if self.monitor not in METRICS:
            self.fail(f"monitor {self.monitor!r} is not a metric ({', '.join(METRICS)})")


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


def training_loss(output: ModelOutput, y: torch.Tensor, labelled: torch.Tensor | None = None,
                  world: int = 1) -> torch.Tensor:
    """``ce_weight`` x cross-entropy on labelled utterances plus the auxiliary losses.

    Under DDP, ``labelled`` is the global batch's number of labelled utterances (with a rank's
    padding share counted 0, and ``y`` masked): the cross-entropy is this rank's sum over it,
    times ``world`` (DDP averages the ranks' gradients), so the ranks' gradients add up to the
    gradient of the global batch's mean. The auxiliary losses are each rank's, averaged."""
    keep = y >= 0
    if labelled is not None:
        ce = F.cross_entropy(output.logits[keep], y[keep], reduction="sum") * world / labelled.clamp(min=1)
    else:
        ce = F.cross_entropy(output.logits[keep], y[keep]) if bool(keep.any()) else output.logits.sum() * 0.0
    loss = output.ce_weight * ce
    for value in output.aux_losses.values():
        loss = loss + value
    return loss


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


def resolve_optimizer(config: TrainConfig, model: type[DialogueModel]) -> TrainConfig:
    """``config`` with an unset ``lr`` / ``weight_decay`` replaced by the model's recommendation
    (``Model.optimizer``): the values a run really uses, as its checkpoints and config.yaml record."""
    return replace(config, lr=config.lr if config.lr is not None else model.optimizer["lr"],
                   weight_decay=config.weight_decay if config.weight_decay is not None
                   else model.optimizer["weight_decay"])


class Callback:
    """What a run does around the loop (:class:`Trainer`): every hook receives the trainer and
    does nothing by default. Under DDP every rank calls them; ``trainer.rank`` tells rank 0.

    - ``on_fit_start(trainer)``: before the first epoch (after a resume's state is restored);
    - ``on_epoch_start(trainer, steps)``, ``on_batch_end(trainer, loss)``: around each step
      (``loss``: the epoch's running mean per dialogue, a 0-d tensor on the training device;
      reading it makes the step wait for the device);
    - ``on_epoch_end(trainer, record)``: after each epoch's dev evaluation; ``record`` is the
      epoch's line (``epoch``, ``train_loss``, ``steps``, ``lr``, the ``val_*`` metrics,
      ``seconds``, ``improved``); raising stops the run there (``tune`` prunes this way);
    - ``on_fit_end(trainer, result)``: after the best epoch's weights are restored and the
      splits evaluated; ``result`` is what :meth:`Trainer.fit` returns.
    """

    def on_fit_start(self, trainer: "Trainer") -> None:
        pass

    def on_epoch_start(self, trainer: "Trainer", steps: int) -> None:
        pass

    def on_batch_end(self, trainer: "Trainer", loss: float) -> None:
        pass

    def on_epoch_end(self, trainer: "Trainer", record: dict[str, Any]) -> None:
        pass

    def on_fit_end(self, trainer: "Trainer", result: dict[str, Any]) -> None:
        pass


class Trainer:
    """Fits one model on one seed: ``Trainer(model, train_set, val_set, TrainConfig(...)).fit(test_set)``.

    The loop only: optimizer steps (AdamW, gradient clipping, the learning-rate schedule),
    precision (``torch.autocast``, a gradient scaler for fp16), ``torch.compile``, DDP, and the
    early-stopping state (the best dev epoch by ``config.monitor``, its weights, the epochs
    without improvement). It writes no file and prints nothing itself: :class:`Callback` s do.
    Besides the ``callbacks`` given it runs
    :func:`~dialoggraph.train.callbacks.run_callbacks` ``(out_dir, config)``: with ``out_dir``
    the run folder's ``log.jsonl``, ``best.pt`` / ``last.pt``, ``metrics.json``, curves and
    TensorBoard; unless ``config.quiet`` the epoch line and a progress bar.

    Everything that can be checked is checked here, before the first epoch: the device, the
    splits (non-empty, the model's modalities at the training widths, one label set, dev
    labelled), and (through the callbacks) the output folder.

    Training is resume-exact: before each epoch every RNG (Python, numpy, torch, the data
    order) is reset to :func:`epoch_seed` ``(seed, epoch, rank)``, and a checkpoint
    (:meth:`state`) holds the weights, optimizer and early-stopping state after an epoch (the
    learning-rate schedule is a function of the step), so a run resumed from its ``last.pt``
    ends with the same weights, bit for bit on CPU, as one never interrupted (tested).

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
        callbacks: :class:`Callback` s, called in order.
        out_dir: the run folder (rank 0 writes it; default: none).
        overwrite: with ``out_dir``, replace an earlier run's files there.
        resume: a ``last.pt`` to continue from (the model and labels must match); the best
            weights so far come from the ``best.pt`` beside it.
        run: JSON-able facts about the run stored in every checkpoint: ``data`` (the dataset
            config, so ``evaluate`` / ``predict`` / ``--resume`` reuse it) and ``featurizers``
            (the record of the featurizers the data was made with; default: the training
            set's ``featurizers``, so the checkpoint can featurize raw input).
    """

    def __init__(self, model: DialogueModel | type | str, train_set, val_set, config: TrainConfig | None = None, *,
                 model_config: ModelConfig | None = None, label_names: Sequence[str] | None = None,
                 callbacks: Sequence[Callback] = (), out_dir: str | None = None, overwrite: bool = False,
                 resume: str | None = None, run: dict[str, Any] | None = None):
        from dialoggraph.train.callbacks import run_callbacks
        config = config or TrainConfig()
        config = replace(config, device=resolve_device(config.device))
        check_device(config.device)
        self.train_set, self.val_set = train_set, val_set
        self.run = dict(run or {})
        if "featurizers" not in self.run and getattr(train_set, "featurizers", None) is not None:
            self.run["featurizers"] = train_set.featurizers
        self.rank, self.world = distributed.init_distributed(config.device)
        if config.batch_size < self.world:
            raise ConfigError(f"batch_size {config.batch_size} is the global batch: it needs a dialogue for "
                              f"each of the {self.world} processes")
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
        self.model_spec = model_spec(type(model))
        self.in_dims = dict(model.in_dims)
        self.config = config = resolve_optimizer(config, type(model))
        self.callbacks = list(callbacks) + run_callbacks(out_dir, config, overwrite, resume is not None)
        self.model = model.to(config.device)
        self.optimizer = make_optimizer(self.model, config)
        if torch.distributed.is_initialized():
            self.model = torch.nn.parallel.DistributedDataParallel(self.model)
        self.runner = torch.compile(self.model, dynamic=True) if config.compile else self.model
        self.compiled = False        # under compile: whether the first step has compiled the model
        # Only float16 needs loss scaling; for the others the scaler passes everything through.
        self.scaler = torch.amp.GradScaler(torch.device(config.device).type, enabled=config.precision == "fp16")
        self.epoch = 0
        self.best_score = -1.0
        self.best_epoch = -1
        self.bad_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None
        if resume is not None:
            self._restore(resume)

    # -- checkpoints -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A checkpoint of this run now: it describes itself (the model by registered name or
        import path, its config, the label set, the feature widths, the data and featurizers
        in ``run``, the dialoggraph version) and holds the weights, optimizer and early-stopping
        state (:func:`~dialoggraph.train.checkpoint.load_model` rebuilds the model from it)."""
        model = unwrap(self.model)
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
            unwrap(self.model).load_state_dict(state["model_state"])
        except RuntimeError as exc:
            raise CheckpointError(f"{path}: weights do not fit the model ({str(exc).splitlines()[0]}); resume "
                                  f"with the checkpoint's own config (dialoggraph train --resume {path})") from None
        self.optimizer.load_state_dict(state["optimizer_state"])      # the schedule is a function of the step
        self.epoch, self.best_score = state["epoch"], state["best_score"]
        self.best_epoch, self.bad_epochs = state["best_epoch"], state["bad_epochs"]
        best = os.path.join(os.path.dirname(os.path.abspath(path)), "best.pt")
        if self.best_epoch > 0 and os.path.exists(best):
            self.best_weights = load_checkpoint(best, self.config.device)["model_state"]

    # -- training --------------------------------------------------------
    def _autocast(self):
        """``torch.autocast`` at ``precision`` on the training device (a no-op for 32)."""
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.config.precision)
        return torch.autocast(torch.device(self.config.device).type, dtype=dtype, enabled=dtype is not None)

    def _compile_stance(self):
        """Under ``compile``, after the first step: use the compiled code where its guards hold
        and run eagerly where a batch would need a new compilation. Shapes are dynamic, but
        DAG-ERC's and LFVD's walks unroll per batch structure (the levels' sizes), and each new
        structure would otherwise cost a compilation of minutes on CPU."""
        if not self.config.compile:
            return contextlib.nullcontext()
        return torch.compiler.set_stance("eager_on_recompile" if self.compiled else "default")

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _train_epoch(self, loader: DataLoader) -> tuple[float, int]:
        """One pass over the training set: the mean loss per dialogue and the optimizer steps taken.
        Each step's learning rate is :func:`lr_factor` of the step counted from the first epoch.

        A step never waits for the device: the loss is summed and checked for non-finite values
        on the device, and read once, after the epoch. A non-finite loss then stops the run
        before its dev evaluation and checkpoints, naming its first step."""
        self.model.train()
        device = torch.device(self.config.device)
        total = torch.zeros((), dtype=torch.float64, device=device)
        first_bad = torch.full((), -1, dtype=torch.long, device=device)
        count, steps = 0, 0
        per_epoch = len(loader)
        self._call("on_epoch_start", per_epoch)
        sampler = loader.batch_sampler if isinstance(loader.batch_sampler, distributed.GlobalBatchSampler) else None
        for step, batch in enumerate(loader):
            batch = batch.to(device, non_blocking=True)
            y, labelled = batch[NODE].y, None
            if sampler is not None:                    # DDP: this rank's share of the global batch
                if not sampler.weights[step]:
                    y = torch.full_like(y, -1)         # a padding share: it counts for nothing
                labelled = distributed.global_count((y >= 0).sum())
            with self._autocast(), self._compile_stance():
                loss = training_loss(self.runner(batch), y, labelled, self.world)
            self.compiled = self.config.compile
            first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()), step, first_bad)
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
            size = batch.num_graphs if sampler is None else sampler.sizes[step]
            total += loss.detach().double() * size
            count += size
            self._call("on_batch_end", total / max(count, 1))
        if sampler is not None:                        # the ranks' losses average to the global batch's
            total = distributed.global_count(total) / self.world
        bad, mean = int(first_bad), float(total) / max(count, 1)          # the epoch's one read of the device
        if bad >= 0:
            raise FloatingPointError(f"training loss is not finite at epoch {self.epoch + 1}, step {bad + 1}; "
                                     "lower --lr or check the features (the saved checkpoints are untouched)")
        return mean, steps

    def fit(self, test_set=None) -> dict[str, Any]:
        """Train with early stopping on the dev ``monitor`` metric, restore the best epoch's
        weights, evaluate the dev set and (once) ``test_set``; returns those metrics. A test split
        without labels is checked like the others and its metrics are skipped, with a note."""
        if test_set is not None:
            check_split(test_set, "test", unwrap(self.model), self.label_names, labelled=False)
        train_set = self.train_set
        generator = torch.Generator()
        pin = torch.device(self.config.device).type == "cuda"
        if self.world > 1:                             # the one-process batches, split across the ranks
            sampler = distributed.GlobalBatchSampler(len(train_set), self.config.batch_size, self.rank, self.world,
                                                     generator)
            loader = DataLoader(train_set, batch_sampler=sampler, generator=generator, pin_memory=pin)
        else:
            loader = DataLoader(train_set, batch_size=self.config.batch_size, shuffle=True, generator=generator,
                                pin_memory=pin)
        model = unwrap(self.model)
        self._call("on_fit_start")
        if self.epoch == 0 and self.config.epochs > 0:
            start = time.time()
            facts = model.fit_outright(train_set, self.val_set)
            if facts is not None:          # fitted outright: that is the run's one epoch
                self._end_epoch(facts.pop("train_loss", float("nan")), 0, start, final=True, facts=facts)
        while self.epoch < self.config.epochs and self.bad_epochs < self.config.patience:
            set_seed(epoch_seed(self.config.seed, self.epoch, self.rank), self.config.deterministic)
            generator.manual_seed(epoch_seed(self.config.seed, self.epoch))
            model.set_epoch(self.epoch)
            start = time.time()
            train_loss, steps = self._train_epoch(loader)
            self._end_epoch(train_loss, steps, start)
        return self.finish(test_set)

    def _end_epoch(self, train_loss: float, steps: int, start: float, final: bool = False,
                   facts: dict[str, Any] | None = None) -> None:
        """Evaluate dev after an epoch, keep the best weights, then the callbacks' ``on_epoch_end``.
        ``final``: no epoch follows (an outright fit), also after a resume; ``facts`` join the record."""
        val_metrics = evaluate(self.model, self.val_set, self.label_names, device=self.config.device)
        self.epoch += 1
        improved = val_metrics[self.config.monitor] > self.best_score
        if improved:
            self.best_score, self.best_epoch, self.bad_epochs = val_metrics[self.config.monitor], self.epoch, 0
            self.best_weights = {k: v.detach().clone() for k, v in unwrap(self.model).state_dict().items()}
        else:
            self.bad_epochs += 1
        if final:
            self.bad_epochs = self.config.patience
        record = {"epoch": self.epoch, "train_loss": train_loss, "steps": steps,
                  "lr": self.optimizer.param_groups[0]["lr"], **{f"val_{name}": val_metrics[name] for name in METRICS},
                  "seconds": round(time.time() - start, 2), **(facts or {}), "improved": improved}
        self._call("on_epoch_end", record)
        distributed.barrier()

    def finish(self, test_set=None) -> dict[str, Any]:
        """Restore the best epoch's weights, evaluate dev and (once) test, call ``on_fit_end``."""
        if self.best_weights is not None:
            unwrap(self.model).load_state_dict(self.best_weights)
        result = {"model": self.model_spec, "seed": self.config.seed, "best_epoch": self.best_epoch,
                  "epochs_run": self.epoch,
                  "val": evaluate(self.model, self.val_set, self.label_names, device=self.config.device)}
        if test_set is not None:
            if labelled_count(test_set):
                result["test"] = evaluate(self.model, test_set, self.label_names, device=self.config.device)
            else:
                result["test"] = None
                result["notes"] = ["the test split has no labels: no test metrics (predict gives its predictions)"]
        self._call("on_fit_end", result)
        return result
