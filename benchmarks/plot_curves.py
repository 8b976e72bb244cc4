"""Learning curves (dev weighted F1 per epoch) of dev-grid cells, one panel per model.

    python benchmarks/plot_curves.py --out docs/img/learning_curves.png \\
        --curve "AMB-DSGDN:paper (lr 6.8e-5, hidden 512)=runs/grid/meld/amb_dsgdn/lr-paper_width-paper" \\
        --curve "AMB-DSGDN:defaults=runs/grid/meld/amb_dsgdn/lr-1e-3_width-128" ...

Each ``--curve PANEL:LABEL=FOLDER`` reads ``FOLDER/log.jsonl`` (written by ``benchmarks/dev_grid.py`` or
``dialoggraph train``); a star marks the best dev epoch, the one early stopping keeps. Needs the
``plot`` extra (matplotlib).
"""
from __future__ import annotations

import argparse
import json
import math
import os


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--curve", action="append", required=True, help="PANEL:LABEL=FOLDER")
    p.add_argument("--title", default="dev weighted F1 per epoch (one seed)")
    args = p.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels: dict[str, list[tuple[str, str]]] = {}
    for spec in args.curve:
        head, _, folder = spec.partition("=")
        panel, _, label = head.partition(":")
        panels.setdefault(panel, []).append((label, folder))
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, (panel, curves) in zip(axes.flat, panels.items()):
        for label, folder in curves:
            with open(os.path.join(folder, "log.jsonl")) as f:
                log = [json.loads(line) for line in f if line.strip()]
            epochs = [r["epoch"] for r in log]
            scores = [100 * r["val_weighted_f1"] for r in log]
            line, = ax.plot(epochs, scores, label=label)
            best = max(range(len(scores)), key=scores.__getitem__)
            ax.plot(epochs[best], scores[best], "*", color=line.get_color(), markersize=10)
        ax.set_title(panel)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("dev weighted F1")
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
