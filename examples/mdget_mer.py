"""Train and evaluate MDGET-MER.

    python examples/mdget_mer.py                                   # embedded synthetic tri-modal set
    python examples/mdget_mer.py --dataset meld --root PATH/TO/MELD [--text-features "{split}_sent_emo.minilm.npy"]
    python examples/mdget_mer.py --seeds 0 1 2 3 4                 # mean +- std over seeds

Any option of ``dialoggraph train`` can be added and overrides the settings
below. On real data the model runs with its defaults (chosen on MELD's dev split,
docs/defaults.md; ``--preset paper`` gives Table 2's). The synthetic run is sized
for about a minute on two CPU cores (hidden 64, 4 heads, one GUE and one Gated
ACME layer, 8 epochs, lr 2e-3).
"""
import sys

from dialoggraph.cli import main

SYNTHETIC = ["--dataset", "synthetic", "--hidden", "64", "--classifier-hidden", "64", "--heads", "4",
             "--gue-layers", "1", "--acme-layers", "1", "--epochs", "8", "--lr", "2e-3", "--patience", "5"]

if __name__ == "__main__":
    extra = sys.argv[1:]
    named = extra[extra.index("--dataset") + 1] if "--dataset" in extra else None
    real_data = "--root" in extra or named not in (None, "synthetic")
    sys.exit(main(["train", "--model", "mdget_mer", *([] if real_data else SYNTHETIC), *extra]))
