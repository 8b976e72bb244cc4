"""``dialoggraph tune MODEL``: hyper-parameter search on the dev split (Optuna), best run as a run file."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.options import add_config_options, given
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import ConfigError, from_dict
from dialoggraph.datasets.factory import DatasetConfig
from dialoggraph.models import MODELS, DialogueModel, resolve_model
from dialoggraph.train.trainer import TrainConfig
from dialoggraph.train.tune import BEST_FILE, tune

#: A trial's budget unless --epochs / --patience say otherwise (TrainConfig's 100 / 10 are for final runs).
TRIAL_SCHEDULE = {"epochs": 30, "patience": 6}


def model_name(argv: Sequence[str]) -> str | None:
    """The model of a ``tune`` command line: ``--model NAME`` (as ``train`` takes it) or the word
    right after ``tune``."""
    argv = list(argv)
    if "--model" in argv and argv.index("--model") + 1 < len(argv):
        return argv[argv.index("--model") + 1]
    if "tune" in argv and argv.index("tune") + 1 < len(argv) and not argv[argv.index("tune") + 1].startswith("-"):
        return argv[argv.index("tune") + 1]
    return None


def tuned_model(argv: Sequence[str]) -> type[DialogueModel]:
    """The model the command line names (whose options the parser shows)."""
    name = model_name(argv)
    if name is not None:
        try:
            return resolve_model(name)
        except ConfigError:             # run() reports the bad name; show some model's options meanwhile
            pass
    return resolve_model("amb_dsgdn")


def add_parser(sub, argv: Sequence[str]) -> None:
    cls = tuned_model(argv)
    p = sub.add_parser("tune", help=COMMANDS["tune"],
                       description="Search a model's hyper-parameters on the dev split: TPE sampling, median "
                                   "pruning on dev weighted F1 per epoch, a resumable study in OUT/study.db; the "
                                   "best trial is written as OUT/best.yaml for 'dialoggraph train --config'. The "
                                   "test split is never read. Options given are fixed, not searched. Needs the "
                                   "tune extra (optuna).")
    p.add_argument("model", nargs="?", help=f"a registered model ({', '.join(sorted(MODELS))}) or "
                                            f"package.module:Class (or --model NAME, as train takes it)")
    p.add_argument("--model", dest="model_option", metavar="NAME", help="the model, as train takes it")
    p.add_argument("--trials", type=int, default=20, help="finished trials the study should have (default: 20)")
    p.add_argument("--timeout", type=float, help="stop starting new trials after this many seconds")
    p.add_argument("--out", required=True, help="the study's folder (run again with the same --out to resume)")
    add_config_options(p, DatasetConfig, "data", "data (DatasetConfig)")
    add_config_options(p, TrainConfig, "train", "training (TrainConfig; trials default to --epochs 30 "
                                                "--patience 6)")
    add_config_options(p, cls.Config, "model", f"model: {cls.__name__} ({cls.Config.__name__})")
    p.set_defaults(run=run)


def print_trial(trial: dict) -> None:
    """One line per finished trial: its result and the best so far."""
    result = f"dev weighted F1 {100 * trial['value']:.2f}" if trial["value"] is not None else trial["state"]
    best = f"best {100 * trial['best']:.2f} (trial {trial['best_trial']})" if trial["best"] is not None else "none yet"
    print(f"trial {trial['trial']} ({trial['finished']}/{trial['trials']}): {result} after {trial['epochs']} "
          f"epochs; {best}", flush=True)


def run(args: argparse.Namespace) -> None:
    if args.model and args.model_option and args.model != args.model_option:
        raise CLIError(f"two models named: {args.model!r} and --model {args.model_option!r}")
    if not (args.model or args.model_option):
        raise CLIError("name the model to tune: dialoggraph tune --model NAME ...")
    cls = resolve_model(args.model or args.model_option)
    if args.trials < 1:
        raise CLIError("--trials must be >= 1")
    data = from_dict(DatasetConfig, given(args, "data"), "data options")
    best = tune(cls, data, args.out, args.trials, args.timeout, fixed_model=given(args, "model"),
                fixed_train={**TRIAL_SCHEDULE, **given(args, "train")}, on_trial=print_trial)
    searched = {k: v for k, v in {**best["train"], **best["model_config"]}.items()
                if k in ("lr", "weight_decay", "batch_size", "scheduler", "hidden", "dropout")}
    print(f"best dev weighted F1 {best['dev_weighted_f1'] * 100:.2f} (trial {best['trial']}, "
          f"{best['trials']} trials in {os.path.join(args.out, 'study.db')}): "
          + ", ".join(f"{k} {v}" for k, v in searched.items()))
    print(f"train it: dialoggraph train --config {os.path.join(args.out, BEST_FILE)} --seeds 0 1 2 3 4")
    if best["dev_weighted_f1"] <= 0:
        print("warning: nothing learned: every trial scored 0.00 dev weighted F1; check the data "
              "(dialoggraph inspect) and the search before training this", file=sys.stderr)
