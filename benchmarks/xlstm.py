"""xLSTM cells vs torch's LSTM of the same width: forward time per sequence step.

Batch 16, width 128, sequence lengths 100 and 1000, single thread, forward
only (inference). ``torch.nn.LSTM`` runs its loop in C++. The cells run as
``XLSTMBlock`` runs them, ``scan`` over segments of ``SEGMENT_STEPS``: the
sLSTM loops over positions in Python (all sequences of the batch together),
the mLSTM computes each segment in its parallel form.

    python benchmarks/xlstm.py [--repeat 3]
"""
from __future__ import annotations

import argparse

import torch

from common import time_it

from dialoggraph.nn.seq.xlstm import SEGMENT_STEPS, MLSTMCell, SLSTMCell

WIDTH, BATCH = 128, 16


def run_cell(cell, xs):
    state = cell.initial_state(xs.size(0), xs)
    for start in range(0, xs.size(1), SEGMENT_STEPS):
        _, state = cell.scan(xs[:, start:start + SEGMENT_STEPS], state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(WIDTH, WIDTH, batch_first=True)
    cells = {"sLSTM": SLSTMCell(WIDTH, WIDTH), "mLSTM (4 heads)": MLSTMCell(WIDTH, WIDTH, heads=4)}
    print(f"torch {torch.__version__}, 1 thread, batch {BATCH}, width {WIDTH}, forward only, median of {args.repeat}\n")
    print(f"{'length':>6} {'model':>16} {'us per step':>12} {'vs LSTM':>8}")
    with torch.no_grad():
        for length in (100, 1000):
            xs = torch.randn(BATCH, length, WIDTH)
            base = time_it(lambda: lstm(xs), repeat=args.repeat) / length
            print(f"{length:>6} {'torch LSTM':>16} {base * 1e6:12.1f} {'1.0x':>8}")
            for name, cell in cells.items():
                t = time_it(lambda: run_cell(cell, xs), repeat=args.repeat) / length
                print(f"{length:>6} {name:>16} {t * 1e6:12.1f} {t / base:7.1f}x")


if __name__ == "__main__":
    main()
