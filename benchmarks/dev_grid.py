"""A dev-split grid over the settings that decide whether a model learns: the evidence behind the defaults.

    python benchmarks/dev_grid.py --out runs/grid/meld --models amb_dsgdn dag_erc \\
        --grid lr=6.8e-5,3e-4,1e-3 width=128,256 -- --dataset meld --root ../shared/data/meld \\
        --text-features {split}_sent_emo.minilm.npy

Every cell trains one seed with early stopping on dev weighted F1 and **never reads the test
split** (the trainer is given none). ``width`` sets every width of a model at once (its
``hidden`` and classifier widths; MFCRE's feed-forwards follow it: 1x and 4x). ``paper`` in a grid
value (``lr=paper``) keeps the model's own recommendation. The dataset options after ``--``
are ``dialoggraph train``'s. Writes ``OUT/grid.csv`` (one row per cell: the model, the
setting, best dev weighted F1, its epoch, the epochs run, seconds per epoch, parameters) and
each cell's ``log.jsonl`` (its learning curve) under ``OUT/MODEL/SETTING/``. Cells already in
``grid.csv`` are skipped, so an interrupted grid resumes.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import sys
import time

import torch

from dialoggraph.cli.options import given
from dialoggraph.config import from_dict
from dialoggraph.datasets.factory import DatasetConfig, load_dataset
from dialoggraph.models import resolve_model
from dialoggraph.train.trainer import TrainConfig, Trainer

WIDTHS = {"amb_dsgdn": ("hidden",), "cmgfe": ("hidden",), "dag_erc": ("hidden",), "lfvd": ("hidden",),
          "mdget_mer": ("hidden", "classifier_hidden"), "mfcre": ("channels", "classifier_hidden"),
          "mlp": ("hidden",), "bigru": ("hidden",)}
TRAIN_KEYS = {f for f in TrainConfig.__dataclass_fields__}
FIELDS = ["model", "setting", "dev_weighted_f1", "best_epoch", "epochs_run", "seconds_per_epoch", "parameters"]


def parse(raw: str):
    """A grid value as a bool (true, false), an int, a float or the string itself."""
    if raw in ("true", "false"):
        return raw == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def cell_values(model: str, setting: dict[str, str]) -> tuple[dict, dict]:
    """The (model config, train config) values of one grid cell."""
    model_values, train_values = {}, {}
    for key, raw in setting.items():
        if raw == "paper":
            continue
        value = parse(raw)
        if key == "width":
            for name in WIDTHS[model]:
                model_values[name] = int(value)
            if model == "mfcre":
                model_values["encoder_ffn_channels"] = int(value)
                model_values["ffn_channels"] = 4 * int(value)
        elif key in TRAIN_KEYS:
            train_values[key] = value
        else:
            model_values[key] = value
    return model_values, train_values


def main() -> None:
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--grid", nargs="+", default=[], help="KEY=V1,V2,... (a model or TrainConfig field, or width)")
    p.add_argument("--set", nargs="*", default=[], help="KEY=VALUE fixed in every cell")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv[:split])
    data_parser = argparse.ArgumentParser()
    from dialoggraph.cli.options import add_config_options
    add_config_options(data_parser, DatasetConfig, "data", "data")
    data = from_dict(DatasetConfig, given(data_parser.parse_args(argv[split + 1:]), "data"))

    axes = [(k, v.split(",")) for k, v in (g.split("=", 1) for g in args.grid)]
    fixed = dict(s.split("=", 1) for s in args.set)
    os.makedirs(args.out, exist_ok=True)
    table = os.path.join(args.out, "grid.csv")
    done = set()
    if os.path.exists(table):
        with open(table) as f:
            done = {(r["model"], r["setting"]) for r in csv.DictReader(f)}
    else:
        with open(table, "w", newline="") as f:
            csv.writer(f).writerow(FIELDS)
    for name in args.models:
        cls = resolve_model(name)
        splits = None
        for values in itertools.product(*[v for _, v in axes]):
            setting = {**fixed, **dict(zip([k for k, _ in axes], values))}
            label = " ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"
            if (name, label) in done:
                continue
            model_values, train_values = cell_values(name, setting)
            config = from_dict(cls.Config, model_values)
            if splits is None:
                splits = [load_dataset(data, s, cls.required_transform(config)) for s in ("train", "dev")]
            config = cls.default_config(splits[0].modalities, **model_values)
            train = from_dict(TrainConfig, {"epochs": args.epochs, "patience": args.patience, "seed": args.seed,
                                            "quiet": True, **train_values})
            folder = os.path.join(args.out, name, label.replace(" ", "_").replace("=", "-") or "defaults")
            torch.set_num_threads(1)
            trainer = Trainer(cls, splits[0], splits[1], train, model_config=config, out_dir=folder, overwrite=True)
            start = time.time()
            result = trainer.fit()
            with open(os.path.join(folder, "log.jsonl")) as f:
                seconds = [json.loads(line)["seconds"] for line in f if line.strip()]
            row = [name, label, round(result["val"]["weighted_f1"] * 100, 2), result["best_epoch"],
                   result["epochs_run"], round(sum(seconds) / len(seconds), 2),
                   sum(p.numel() for p in trainer.model.parameters())]
            for stale in ("best.pt", "last.pt"):
                os.remove(os.path.join(folder, stale))
            with open(table, "a", newline="") as f:
                csv.writer(f).writerow(row)
            print(" | ".join(str(c) for c in row), f"({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
