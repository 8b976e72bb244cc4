"""Train and evaluate CMGFE (dialoggraph's reading of Zhao, Ren & Zhou 2025; see docs/cmgfe.md).

    python examples/cmgfe.py                                       # embedded synthetic tri-modal set
    python examples/cmgfe.py --dataset meld --root PATH/TO/MELD [--text-features "{split}_sent_emo.minilm.npy"]
    python examples/cmgfe.py --seeds 0 1 2 3 4                     # mean +- std over seeds

Any option of ``dialoggraph train`` can be added and overrides the defaults
below (synthetic: hidden 128, 12 epochs, lr 1e-3, about a minute on two CPU cores).
"""
import sys

from dialoggraph.cli import main

SYNTHETIC = ["--dataset", "synthetic", "--hidden", "128", "--epochs", "12", "--lr", "1e-3", "--patience", "5"]
MELD = ["--epochs", "40", "--patience", "8"]

if __name__ == "__main__":
    extra = sys.argv[1:]
    real_data = "--dataset" in extra and extra[extra.index("--dataset") + 1] != "synthetic"
    sys.exit(main(["train", "--model", "cmgfe", *(MELD if real_data else SYNTHETIC), *extra]))
