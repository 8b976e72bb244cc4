"""The figures of a report and a run comparison (matplotlib, the ``plot`` extra).

Each ``*_figure`` function draws one figure from the JSON-ready numbers the analysis returns and
hands back the matplotlib ``Figure``; :func:`save_figure` writes it as PNG and SVG, atomically.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from dialoggraph.plotting import pyplot


def per_class_figure(per_class: dict[str, dict[str, Any]]):
    """Precision, recall and F1 per class; F1 with its bootstrap interval."""
    plt = pyplot("the per-class figure")
    names = list(per_class)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(names) + 2), 3.4))
    for k, score in enumerate(("precision", "recall", "f1")):
        values = np.array([100 * per_class[n][score] for n in names])
        err = None
        if score == "f1":
            ci = np.array([[100 * per_class[n]["f1_ci"][0], 100 * per_class[n]["f1_ci"][1]] for n in names])
            err = np.clip(np.stack([values - ci[:, 0], ci[:, 1] - values]), 0, None)
        ax.bar(x + (k - 1) * 0.27, values, 0.27, yerr=err, capsize=2, label=score)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, ncols=3)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("per class (F1 with its 95% bootstrap interval over dialogues)", fontsize=9)
    return fig


def confusion_figure(counts: Sequence[Sequence[int]], names: Sequence[str]):
    """The confusion matrix as counts and row-normalised (rows: true classes)."""
    plt = pyplot("the confusion-matrix figure")
    counts = np.asarray(counts, dtype=float)
    rows = counts.sum(1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    size = max(4.0, 0.55 * len(names) + 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    for ax, matrix, title, fmt in ((axes[0], counts, "counts", "{:.0f}"),
                                    (axes[1], normalised, "row-normalised (recall on the diagonal)", "{:.2f}")):
        ax.imshow(matrix, cmap="Blues", vmin=0)
        for i in range(len(names)):
            for j in range(len(names)):
                dark = matrix[i, j] > 0.6 * matrix.max() if matrix.max() > 0 else False
                ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def shift_figure(shift: dict, lengths: dict):
    """Accuracy with and without an emotion shift (within and across speakers), by dialogue
    length and by position in the dialogue; bar labels are the utterance counts."""
    plt = pyplot("the shift / length / position figure")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
    groups = [(f"{side.replace('_', '-')}\n{part.replace('_', ' ')}", shift[side][part])
              for side in ("intra_speaker", "inter_speaker") for part in ("shift", "no_shift")]
    panels = ((axes[0], groups, "emotion shift"),
              (axes[1], [(b["bucket"], b) for b in lengths["length"]], "dialogue length (utterances)"),
              (axes[2], [(b["bucket"], b) for b in lengths["position"]], "position in the dialogue"))
    colours = (["C0", "C1"] * 2, "C2", "C2")             # shift / no shift alternate; buckets in one colour
    for (ax, bars, title), colour in zip(panels, colours):
        values = [100 * b["accuracy"] if b["accuracy"] is not None else 0.0 for _, b in bars]
        drawn = ax.bar(range(len(bars)), values, color=colour)
        ax.bar_label(drawn, labels=[f"n={b['count']}" for _, b in bars], fontsize=7)
        ax.set_xticks(range(len(bars)), [name for name, _ in bars], fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("accuracy (%)")
    axes[0].set_ylim(0, 105)
    fig.tight_layout()
    return fig


def robustness_figure(robustness: dict, clean: float):
    """Weighted F1 against the SNR of Gaussian noise added to one modality at a time, and with
    each modality zeroed or removed; the clean figure as a dashed line."""
    plt = pyplot("the robustness figure")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [3, 2]})
    for m, points in robustness["noise"].items():
        snrs = [p["snr_db"] for p in points]
        axes[0].plot(snrs, [100 * p["weighted_f1"] for p in points], "o-", label=m)
    axes[0].axhline(100 * clean, ls="--", color="gray", label="clean")
    axes[0].invert_xaxis()
    axes[0].set_xlabel("SNR (dB), noisier to the right")
    axes[0].set_ylabel("weighted F1 (%)")
    axes[0].set_title("Gaussian noise on one modality", fontsize=9)
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    bars = [(f"{m}\n{how}", 100 * r["weighted_f1"]) for m, ways in robustness["missing"].items()
            for how, r in ways.items() if r is not None]
    axes[1].bar(range(len(bars)), [v for _, v in bars], color="C3")
    axes[1].axhline(100 * clean, ls="--", color="gray")
    axes[1].set_xticks(range(len(bars)), [n for n, _ in bars], fontsize=8)
    axes[1].set_title("one modality missing", fontsize=9)
    axes[1].grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def modality_heads_figure(heads: dict[str, dict[str, float]], fused: dict[str, float]):
    """Accuracy and weighted F1 of each per-modality head next to the model's fused prediction."""
    plt = pyplot("the modality-heads figure")
    names = list(heads) + ["fused"]
    rows = list(heads.values()) + [fused]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(names) + 1), 3.2))
    for k, score in enumerate(("accuracy", "weighted_f1")):
        ax.bar(x + (k - 0.5) * 0.35, [100 * r[score] for r in rows], 0.35, label=score.replace("_", " "))
    ax.set_xticks(x, names)
    ax.set_ylabel("%")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("per-modality heads", fontsize=9)
    return fig


def comparison_figure(rows: Sequence[dict[str, Any]], metric: str):
    """Mean and standard deviation over seeds of ``metric`` for each run."""
    plt = pyplot("the comparison figure")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(rows) + 2), 3.4))
    means = [100 * r[metric]["mean"] for r in rows]
    stds = [100 * r[metric]["std"] for r in rows]
    ax.bar(range(len(rows)), means, yerr=stds, capsize=4, color="C0")
    low = min(m - s for m, s in zip(means, stds))
    ax.set_ylim(max(0.0, low - 5), min(100.0, max(m + s for m, s in zip(means, stds)) + 2))
    ax.set_xticks(range(len(rows)), [r["name"] for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"test {metric.replace('_', ' ')} (%)")
    ax.set_title("mean and standard deviation over seeds", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig
