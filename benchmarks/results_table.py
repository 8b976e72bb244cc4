"""Results rows for docs/results.md: every model trained over several seeds on one dataset, selected on dev.

    python benchmarks/results_table.py --out runs/results/meld --label "MELD (frozen MiniLM)" \\
        -- --dataset meld --root ../shared/data/meld --text-features {split}_sent_emo.minilm.npy

Each model runs as ``dialoggraph train --model MODEL DATA --seeds ... --out OUT/runs/MODEL --quiet`` with
**nothing else** (its defaults), unless ``--flags MODEL="--lr 1e-4 ..."`` or ``--config MODEL=best.yaml``
(a tuned configuration from ``dialoggraph tune``) says otherwise; ``MODEL@TAG`` is another run of MODEL,
named "MODEL (TAG)" in the rows (an ablation: ``--models amb_dsgdn@nograph --flags amb_dsgdn@nograph="--graph-layer none"``);
``--no-train`` only prints the rows of the runs already finished. The logistic-regression, MLP and BiGRU
floors run first. At the end ``dialoggraph compare`` puts every finished run next to the ``--reference`` run
(default: the BiGRU) with a paired bootstrap test over the test dialogues, in
``OUT/compare/compare.md`` (docs/analysis.md). A model whose ``OUT/runs/MODEL/summary.json`` exists is not run again (the script
resumes). Writes ``OUT/results.md`` (one row per model: dev weighted F1, test accuracy, weighted and macro
F1 as mean +- sample std over the seeds, best epochs, seconds per epoch) and prints each row as it is
measured. The test split is evaluated once per run, with the best dev epoch's weights.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np

MODELS = ["logreg", "mlp", "bigru", "amb_dsgdn", "dag_erc", "mdget_mer", "mfcre", "lfvd", "cmgfe"]
NAMES = {"logreg": "logistic regression", "mlp": "per-utterance MLP", "bigru": "BiGRU", "amb_dsgdn": "AMB-DSGDN",
         "dag_erc": "DAG-ERC", "mdget_mer": "MDGET-MER", "mfcre": "MFCRE", "lfvd": "LFVD",
         "cmgfe": "CMGFE (our reading)"}
HEADER = ("| data | model | dev wF1 | test acc | test wF1 | test macro F1 | best epochs | s/epoch |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")


def name_of(model: str, names: dict[str, str]) -> str:
    """A row's model name: ``--names``' or the model's, with the tag of ``MODEL@TAG`` in brackets."""
    base, _, tag = model.partition("@")
    return names.get(model, NAMES.get(base, base) + (f" ({tag})" if tag else ""))


def summary_of(run: str) -> dict:
    """Mean, sample std and values of the seeds of a ``dialoggraph train --seeds`` folder."""
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    seeds = [os.path.join(run, f"seed{s}") for s in summary["seeds"]]
    metrics = [json.load(open(os.path.join(s, "metrics.json"))) for s in seeds]
    seconds = []
    for s in seeds:
        with open(os.path.join(s, "log.jsonl")) as f:
            seconds += [json.loads(line)["seconds"] for line in f if line.strip()]
    return {"summary": summary, "best_epochs": [m["best_epoch"] for m in metrics],
            "seconds_per_epoch": float(np.mean(seconds))}


def row(label: str, name: str, run: str) -> str:
    """One results.md row from a ``dialoggraph train --seeds`` folder."""
    info = summary_of(run)
    summary, epochs = info["summary"], info["best_epochs"]

    def cell(part, key):
        values = 100 * np.asarray(summary[part][key]["values"])
        return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"
    return (f"| {label} | {name} | {cell('val', 'weighted_f1')} | {cell('test', 'accuracy')} | "
            f"{cell('test', 'weighted_f1')} | {cell('test', 'macro_f1')} | {min(epochs)}-{max(epochs)} | "
            f"{info['seconds_per_epoch']:.2f} |")


def pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--{what} {item!r}: expected MODEL=VALUE")
        out[key] = value
    return out


def main() -> None:
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--label", required=True, help="the data column of the rows")
    p.add_argument("--models", nargs="+", default=MODELS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--flags", nargs="*", default=[], help='MODEL="--flag value ..." added to that model\'s run')
    p.add_argument("--config", nargs="*", default=[], help="MODEL=FILE: train that model with --config FILE")
    p.add_argument("--names", nargs="*", default=[], help="MODEL=NAME: the row's model name")
    p.add_argument("--no-train", action="store_true", help="only the rows of the runs already finished")
    p.add_argument("--reference", default="bigru", help="the run the others are tested against")
    args = p.parse_args(argv[:cut])
    data = argv[cut + 1:]
    flags, configs, names = pairs(args.flags, "flags"), pairs(args.config, "config"), pairs(args.names, "names")
    rows, finished = [HEADER], []
    for model in args.models:
        run = os.path.join(args.out, "runs", model)
        if not os.path.exists(os.path.join(run, "summary.json")):
            if args.no_train:
                continue
            start = time.time()
            base = ["--config", configs[model]] if model in configs else ["--model", model.split("@")[0]]
            subprocess.run([sys.executable, "-m", "dialoggraph", "train", *base, *data,
                            "--seeds", *map(str, args.seeds), "--out", run, "--overwrite", "--quiet",
                            *shlex.split(flags.get(model, ""))], check=True)
            print(f"{model}: {time.time() - start:.0f} s", flush=True)
        rows.append(row(args.label, name_of(model, names), run))
        finished.append((model, run))
        print(rows[-1], flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(rows) + "\n")
    finished.sort(key=lambda item: item[0] != args.reference)
    if len(finished) > 1:
        subprocess.run([sys.executable, "-m", "dialoggraph", "compare", *[run for _, run in finished], "--names",
                        *[name_of(m, names) for m, _ in finished],
                        "--out", os.path.join(args.out, "compare")], check=True)


if __name__ == "__main__":
    main()
