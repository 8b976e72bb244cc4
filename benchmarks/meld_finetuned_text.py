"""MELD with fine-tuned text features: featurize, then every model and the floors over 5 seeds.

    python benchmarks/meld_finetuned_text.py --meld ../shared/data/meld --encoder PATH/TO/all-MiniLM-L6-v2 \\
        --out runs/meld_finetuned

1. ``featurize``: MELD's transcripts (dialogue ids ``{split}_dia{D}``) with ``--text finetune:ENCODER``:
   the encoder fine-tuned on MELD train (speaker + 2 previous utterances, mean pooling, AdamW 3e-5,
   batch 32, 3 epochs, the epoch with the best dev weighted F1 kept), pooled features for every split.
   Resumable: run it again after an interruption.
2. ``benchmarks/results_table.py`` on the folder: the logistic-regression, MLP and BiGRU floors and
   every model with its defaults, seeds 0-4, selected on dev (resumable too); its rows go to
   ``OUT/results/results.md``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--meld", required=True)
    p.add_argument("--encoder", required=True, help="hub name or local folder of the text encoder")
    p.add_argument("--out", default="runs/meld_finetuned")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = p.parse_args()
    folder = os.path.join(args.out, "features")
    featurize_meld(args.meld, args.encoder, folder)
    subprocess.run([sys.executable, os.path.join(HERE, "results_table.py"), "--out", os.path.join(args.out, "results"),
                    "--label", "MELD (fine-tuned MiniLM)", "--seeds", *map(str, args.seeds), "--",
                    "--dataset", "folder", "--root", folder], check=True)


if __name__ == "__main__":
    main()
