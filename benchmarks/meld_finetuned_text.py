"""MELD with fine-tuned text features: featurize, then every model and the floors over 5 seeds.

    python benchmarks/meld_finetuned_text.py --meld ../shared/data/meld --encoder PATH/TO/all-MiniLM-L6-v2 \\
        --out runs/meld_finetuned

1. ``featurize``: MELD's transcripts (dialogue ids ``{split}_dia{D}``) with ``--text finetune:ENCODER``:
   the encoder fine-tuned on MELD train (speaker + 2 previous utterances, mean pooling, AdamW 3e-5,
   batch 32, 3 epochs, the epoch with the best dev weighted F1 kept), pooled features for every split.
   Resumable: run it again after an interruption.
2. Logistic regression (scikit-learn, C in {0.01, 0.1, 1, 10} chosen on dev), then ``dialoggraph train`` for the MLP,
   the BiGRU and the six models with the settings of docs/results.md, seeds 0-4, selected on dev.
   A model whose ``OUT/runs/MODEL/summary.json`` exists is skipped (so the script resumes too).
3. ``OUT/results.md``: the rows for docs/results.md (each printed as soon as it is measured).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

COMMON = ["--epochs", "40", "--patience", "8"]
MODELS = {   # the settings of docs/results.md's frozen-feature rows, in the order they run
    "mlp": [], "bigru": [],
    "amb_dsgdn": ["--lr", "5e-4", "--dropout", "0.4"],
    "dag_erc": [],
    "mdget_mer": ["--lr", "5e-4"],
    "mfcre": ["--lr", "1e-4"],
    "lfvd": ["--batch-size", "32", "--lr", "1e-3"],
    "cmgfe": ["--lr", "1e-4"],
}
NAMES = {"mlp": "per-utterance MLP", "bigru": "BiGRU", "amb_dsgdn": "AMB-DSGDN", "dag_erc": "DAG-ERC",
         "mdget_mer": "MDGET-MER", "mfcre": "MFCRE", "lfvd": "LFVD", "cmgfe": "CMGFE (our reading)"}


def featurize_meld(meld: str, encoder: str, out: str) -> None:
    from dialoggraph.datasets.meld import meld_transcript
    from dialoggraph.features import FeaturizeConfig, featurize
    if os.path.exists(os.path.join(out, "featurizers.json")):
        return
    start = time.time()
    record = featurize(meld_transcript(meld), out, config=FeaturizeConfig(text=f"finetune:{encoder}"),
                       label_names=["neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"])
    text = record["modalities"]["text"]
    print(f"featurized in {time.time() - start:.0f} s; fine-tuning history {text['history']}, "
          f"kept epoch {text['best_epoch']}", flush=True)


def logistic_regression(folder: str) -> dict:
    """Per-utterance logistic regression on the text features, C chosen on dev weighted F1 (lbfgs is
    deterministic: one fit per C, so no seeds)."""
    import csv
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    names = [n.strip() for n in open(os.path.join(folder, "labels.txt")) if n.strip()]

    def split(name):
        x = np.load(os.path.join(folder, f"{name}.text.npy"))
        y = np.asarray([names.index(r["label"]) for r in csv.DictReader(open(os.path.join(folder, f"{name}.csv")))])
        return x, y
    (xt, yt), (xd, yd), (xs, ys) = split("train"), split("dev"), split("test")
    best = None
    for c in (0.01, 0.1, 1.0, 10.0):
        model = LogisticRegression(C=c, max_iter=3000).fit(xt, yt)
        dev = f1_score(yd, model.predict(xd), average="weighted")
        if best is None or dev > best[0]:
            best = (dev, model, c)
    pred = best[1].predict(xs)
    return {"C": best[2], "dev_weighted_f1": best[0], "accuracy": accuracy_score(ys, pred),
            "weighted_f1": f1_score(ys, pred, average="weighted"), "macro_f1": f1_score(ys, pred, average="macro")}


def row(name: str, run: str) -> str:
    """One results.md row from a ``dialoggraph train --seeds`` folder."""
    with open(os.path.join(run, "summary.json")) as f:
        summary = json.load(f)
    seeds = [json.load(open(os.path.join(run, f"seed{s}", "metrics.json"))) for s in summary["seeds"]]
    epochs = [m["best_epoch"] for m in seeds]

    def cell(part, key):
        values = 100 * np.asarray(summary[part][key]["values"])
        return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"
    return (f"| MELD (fine-tuned MiniLM) | {name} | {cell('val', 'weighted_f1')} | {cell('test', 'accuracy')} | "
            f"{cell('test', 'weighted_f1')} | {cell('test', 'macro_f1')} | {min(epochs)}-{max(epochs)} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meld", required=True)
    p.add_argument("--encoder", required=True, help="hub name or local folder of the text encoder")
    p.add_argument("--out", default="runs/meld_finetuned")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    args = p.parse_args()
    folder = os.path.join(args.out, "features")
    featurize_meld(args.meld, args.encoder, folder)
    lr = logistic_regression(folder)
    rows = [f"| MELD (fine-tuned MiniLM) | logistic regression (C={lr['C']}) | {100 * lr['dev_weighted_f1']:.2f} | "
            f"{100 * lr['accuracy']:.2f} | {100 * lr['weighted_f1']:.2f} | {100 * lr['macro_f1']:.2f} | - |"]
    print(rows[0], flush=True)
    for model in args.models:
        run = os.path.join(args.out, "runs", model)
        if not os.path.exists(os.path.join(run, "summary.json")):
            start = time.time()
            subprocess.run([sys.executable, "-m", "dialoggraph", "train", "--model", model, "--dataset", "folder",
                            "--root", folder, "--seeds", *map(str, args.seeds), "--out", run, "--overwrite",
                            "--quiet", *COMMON, *MODELS[model]], check=True)
            print(f"{model}: {time.time() - start:.0f} s", flush=True)
        rows.append(row(NAMES[model], run))
        print(rows[-1], flush=True)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
