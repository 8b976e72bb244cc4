"""Train and evaluate CMGFE (dialoggraph's reading of Zhao, Ren & Zhou 2025; see docs/cmgfe.md).

    python examples/cmgfe.py                                       # embedded synthetic tri-modal set
    python examples/cmgfe.py --dataset meld --root PATH/TO/MELD [--text-features "{split}_sent_emo.minilm.npy"]
    python examples/cmgfe.py --seeds 0 1 2 3 4                     # mean +- std over seeds

Any option of ``dialoggraph train`` can be added and overrides the settings
below. On real data the model runs with its defaults (chosen on MELD's dev split,
docs/defaults.md); the synthetic run is sized for about a minute on two CPU cores
(12 epochs).
"""
import sys

from dialoggraph.cli import main

SYNTHETIC = ["--dataset", "synthetic", "--epochs", "12", "--patience", "5"]

if __name__ == "__main__":
    extra = sys.argv[1:]
    named = extra[extra.index("--dataset") + 1] if "--dataset" in extra else None
    real_data = "--root" in extra or named not in (None, "synthetic")
    sys.exit(main(["train", "--model", "cmgfe", *([] if real_data else SYNTHETIC), *extra]))
