"""Hyper-parameter search on the dev split with Optuna: ``dialoggraph tune MODEL``.

Each trial samples a training schedule (learning rate, weight decay, batch size,
schedule) and the fields the model's config declares searchable (its widths, dropouts and
speaker window: ``ModelConfig.search_space()``; a trial's window builds its own graphs), trains on the train split and is
scored by its best dev weighted F1. The TPE sampler
proposes trials; the median pruner stops a trial whose dev weighted F1 after an
epoch is below the median of earlier trials at that epoch. The study lives in a
SQLite file, so an interrupted search resumes where it stopped. The best trial is
written as a run file that ``dialoggraph train --config`` takes. The test split is
never loaded.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from typing import Any, Callable

from dialoggraph.config import ConfigError, from_dict, to_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.extras import require
from dialoggraph.io import atomic_write, atomic_write_yaml, writable_folder
from dialoggraph.models import DialogueModel, model_spec
from dialoggraph.models.base import Search
from dialoggraph.train.trainer import Callback, TrainConfig, Trainer

STUDY_FILE = "study.db"
BEST_FILE = "best.yaml"
TRAIN_SPACE = {"lr": Search(low=1e-5, high=3e-3, log=True), "weight_decay": Search(low=1e-6, high=1e-1, log=True),
               "batch_size": Search((8, 16, 32)), "scheduler": Search(("none", "cosine"))}
"""Where ``tune`` searches the training schedule."""


def sample(trial, cls: type[DialogueModel], fixed_model: dict[str, Any],
           fixed_train: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One trial's ``(model values, train values)``; a value given by the user stays fixed.

    The space: :data:`TRAIN_SPACE` (``lr`` log-uniform in [1e-5, 3e-3], ``weight_decay``
    log-uniform in [1e-6, 0.1], ``batch_size`` in {8, 16, 32}, ``scheduler`` in {none, cosine})
    and the model config's own :meth:`~dialoggraph.models.ModelConfig.search_space` (its widths,
    dropouts and, where it has one, the speaker ``window`` of the graph: the AMB-DSGDN paper says
    the window is to be tuned on the data, sec. 6.2).
    """
    model, train = dict(fixed_model), dict(fixed_train)
    for target, fixed, space in ((train, fixed_train, TRAIN_SPACE), (model, fixed_model, cls.Config.search_space())):
        for name, where in space.items():
            if name not in fixed:
                target[name] = where.suggest(trial, name)
    return model, train


def tune(cls: type[DialogueModel], data: DatasetConfig, out: str, trials: int, timeout: float | None = None,
         fixed_model: dict[str, Any] | None = None, fixed_train: dict[str, Any] | None = None,
         startup_trials: int = 5, warmup_epochs: int = 2,
         on_trial: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Search ``cls``'s hyper-parameters on ``data``'s dev split; returns the best trial's run.

    Args:
        cls: the model class.
        data: the dataset (its train and dev splits are loaded; test never is).
        out: the folder of the study (``study.db``), ``trials.csv`` and ``best.yaml``.
        trials: the study's total number of finished trials; a resumed study runs the rest.
        timeout: stop starting trials after this many seconds.
        fixed_model, fixed_train: values given by the user, never searched (``epochs``,
            ``patience``, ``seed``, ``device`` ... and any searched one given).
        startup_trials: trials before the pruner may prune.
        warmup_epochs: a trial may be pruned from this epoch on (1-based epochs are the steps).
        on_trial: called as each trial ends with ``trial``, ``state`` (complete, pruned, fail),
            ``value`` (dev weighted F1 or ``None``), ``epochs``, ``best`` and ``best_trial`` (so far,
            ``None`` before a trial completes) and ``finished`` / ``trials`` (the study's count and target).

    Returns:
        the run written to ``best.yaml``: model, seeds, data, model_config, train, and
        ``dev_weighted_f1`` of the best trial.
    """
    optuna = require("optuna", "tune", "dialoggraph tune")
    writable_folder(out)
    fixed_model, fixed_train = dict(fixed_model or {}), dict(fixed_train or {})
    from_dict(cls.Config, fixed_model, "model options")             # bad fixed values fail before any data
    base_train = from_dict(TrainConfig, {**fixed_train, "quiet": True}, "train options")
    loaded: dict[str, list] = {}

    def splits_for(config) -> list:
        """The train and dev splits with the graphs ``config`` needs, loaded once per transform
        (a searched window changes the graph)."""
        transform = cls.required_transform(config)
        if repr(transform) not in loaded:
            loaded[repr(transform)] = [load_dataset(data, split, transform) for split in ("train", "dev")]
        return loaded[repr(transform)]

    probe = cls.Config(**{k: v for k, v in fixed_model.items() if k != "modalities"})
    if "modalities" not in fixed_model:
        fixed_model["modalities"] = list(cls.default_config(splits_for(probe)[0].modalities).modalities)

    def objective(trial) -> float:
        model_values, train_values = sample(trial, cls, fixed_model, fixed_train)
        config = from_dict(cls.Config, model_values, f"trial {trial.number}")
        train = replace(base_train, **{k: v for k, v in train_values.items() if k in TrainConfig.__dataclass_fields__})
        splits = splits_for(config)
        trainer = Trainer(cls, splits[0], splits[1], train, model_config=config, callbacks=[Pruning(trial, optuna)])
        trial.set_user_attr("model_config", to_dict(config))
        trial.set_user_attr("train", to_dict(replace(trainer.config, quiet=False)))
        return trainer.fit()["val"]["weighted_f1"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=model_spec(cls), storage=f"sqlite:///{os.path.abspath(os.path.join(out, STUDY_FILE))}",
        direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=base_train.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs))
    done = [t for t in study.trials if t.state.is_finished()]

    def best_trial(study):
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        return max(complete, key=lambda t: t.value) if complete else None

    def finished(study, trial) -> None:
        if on_trial is None:
            return
        best = best_trial(study)
        on_trial({"trial": trial.number, "state": trial.state.name.lower(), "value": trial.value,
                  "epochs": len(trial.intermediate_values), "best": best.value if best else None,
                  "best_trial": best.number if best else None,
                  "finished": sum(t.state.is_finished() for t in study.trials), "trials": trials})

    if len(done) < trials:
        study.optimize(objective, n_trials=trials - len(done), timeout=timeout, catch=(ConfigError,),
                       callbacks=[finished])
    _write_trials(study, os.path.join(out, "trials.csv"))
    best = best_trial(study)
    if best is None:
        raise RuntimeError(f"no trial of the study in {out} finished (all pruned or failed; see trials.csv)")
    run = {"model": model_spec(cls), "seeds": [base_train.seed], "data": to_dict(data),
           "model_config": best.user_attrs["model_config"], "train": best.user_attrs["train"]}
    atomic_write_yaml(os.path.join(out, BEST_FILE), run)
    return {**run, "dev_weighted_f1": best.value, "trial": best.number, "trials": len(study.trials)}


class Pruning(Callback):
    """Report each epoch's dev weighted F1 to an Optuna trial; stop the trial when its pruner says so."""

    def __init__(self, trial, optuna):
        self.trial, self.optuna = trial, optuna

    def on_epoch_end(self, trainer, record: dict[str, Any]) -> None:
        self.trial.report(record["val_weighted_f1"], record["epoch"])
        if self.trial.should_prune():
            raise self.optuna.TrialPruned()


def _write_trials(study, path: str) -> None:
    names = sorted({name for t in study.trials for name in t.params})
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["trial", "state", "dev_weighted_f1", "epochs"] + names)
    for t in study.trials:
        writer.writerow([t.number, t.state.name.lower(), "" if t.value is None else f"{t.value:.6f}",
                         len(t.intermediate_values)] + [t.params.get(n, "") for n in names])
    atomic_write(path, lambda f: f.write(text.getvalue().encode()))
