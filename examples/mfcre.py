"""Train and evaluate MFCRE (Qi et al.; docs/mfcre.md).

    python examples/mfcre.py                                       # embedded synthetic tri-modal set
    python examples/mfcre.py --dataset meld --root PATH/TO/MELD [--text-features "{split}_sent_emo.minilm.npy"]
    python examples/mfcre.py --seeds 0 1 2 3 4                     # mean +- std over seeds
    python examples/mfcre.py --fusion concat                       # Table 4's "w/o MultiAttn"

Any option of ``dialoggraph train`` can be added and overrides the settings
below. On real data the model runs with its defaults (the authors' MELD script;
``--preset paper`` gives sec. 4.2's text). The synthetic run is sized for a few minutes
on two CPU cores (shared width 64, feed-forwards 64 / 256, 4 heads, 12 epochs, lr 1e-3).
"""
import sys

from dialoggraph.cli import main

SYNTHETIC = ["--dataset", "synthetic", "--channels", "64", "--ffn-channels", "256", "--encoder-ffn-channels", "64",
             "--classifier-hidden", "128", "--epochs", "12", "--lr", "1e-3", "--patience", "5"]

if __name__ == "__main__":
    extra = sys.argv[1:]
    named = extra[extra.index("--dataset") + 1] if "--dataset" in extra else None
    real_data = "--root" in extra or named not in (None, "synthetic")
    sys.exit(main(["train", "--model", "mfcre", *([] if real_data else SYNTHETIC), *extra]))
