"""Draw docs/img/speed.png (and .svg) from the ``--json`` files of ``vs_original.py``.

    python benchmarks/vs_original.py --amb-dsgdn A --dag-erc D --json runs/speed.json
    python benchmarks/plot_speed.py runs/speed.json [more.json ...] --out docs/img/speed

One panel per model: for each shape and step (train, infer), the milliseconds of the authors'
code, of dialoggraph and of the dense floor, on a log scale, each bar labelled with its time.
Rows of later files replace those of earlier ones with the same model, shape and step. Needs
the ``plot`` extra (matplotlib).
"""
from __future__ import annotations

import argparse
import json

SIDES = (("theirs", "authors' code", "#bbbbbb"), ("ours", "dialoggraph", "#1f77b4"), ("floor", "dense floor", "#444444"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", nargs="+", help="vs_original.py --json files")
    p.add_argument("--out", default="docs/img/speed", help="path without extension: writes .png and .svg")
    p.add_argument("--title", default="", help="a line under the panels (machine, threads, rounds)")
    args = p.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = {}
    for path in args.json:
        with open(path) as f:
            for row in json.load(f):
                rows[(row["model"], row["shape"], row["step"])] = row
    models = list(dict.fromkeys(key[0] for key in rows))
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        groups = [key for key in rows if key[0] == model]
        width = 0.27
        for k, (side, label, colour) in enumerate(SIDES):
            xs = [g + (k - 1) * width for g in range(len(groups))]
            ms = [rows[key][f"{side}_ms"] for key in groups]
            bars = ax.bar(xs, ms, width, label=label, color=colour)
            ax.bar_label(bars, labels=[f"{v:.0f}" for v in ms], fontsize=7, rotation=90, padding=2)
        ax.set_yscale("log")
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([f"{shape}\n{step}" for _, shape, step in groups], fontsize=8)
        ax.set_ylabel("ms per step (median)")
        ax.set_title(model)
        ax.margins(y=0.25)
    axes[0][0].legend(fontsize=8, loc="upper left")
    if args.title:
        fig.text(0.5, 0.005, args.title, ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.03 if args.title else 0, 1, 1))
    for ext in ("png", "svg"):
        fig.savefig(f"{args.out}.{ext}", dpi=120)
    print(f"wrote {args.out}.png and {args.out}.svg")


if __name__ == "__main__":
    main()
