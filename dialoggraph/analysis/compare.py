"""Runs side by side: mean +- standard deviation over each run's seeds, and a paired bootstrap
test over the test dialogues against a reference run.

    rows = compare_runs({"BiGRU": bigru_seeds, "AMB-DSGDN": amb_seeds})
    print(comparison_markdown(rows))

``dialoggraph compare RUN_DIR ...`` predicts with each seed's ``best.pt`` and does this.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dialoggraph.analysis.breakdown import bootstrap_weights, confusion_by_dialogue, dialogue_index, scores_from_confusion

METRICS = ("accuracy", "weighted_f1", "macro_f1")


@dataclass
class SeedPredictions:
    """One seed's predictions on the split compared: the dialogues' ids and lengths, and per
    utterance (in dialogue order) the label and the predicted class."""

    dialogues: list[str]
    lengths: list[int]
    y: np.ndarray
    pred: np.ndarray


def _check_same_split(runs: dict[str, list[SeedPredictions]]) -> SeedPredictions:
    reference_name, reference_seeds = next(iter(runs.items()))
    reference = reference_seeds[0]
    for name, seeds in runs.items():
        if not seeds:
            raise ValueError(f"run {name!r} has no seed")
        for seed in seeds:
            if seed.dialogues != reference.dialogues or not np.array_equal(seed.y, reference.y):
                raise ValueError(f"run {name!r} was evaluated on other dialogues or labels than "
                                 f"{reference_name!r}: a paired comparison needs the same split")
    return reference


def compare_runs(runs: dict[str, list[SeedPredictions]], num_classes: int, metric: str = "weighted_f1",
                 bootstrap: int = 1000, seed: int = 0) -> list[dict]:
    r"""One row per run: mean and sample standard deviation over its seeds of accuracy, weighted
    and macro F1, and against the first run (the reference) a paired bootstrap over the test
    dialogues of ``metric``.

    The bootstrap draws ``bootstrap`` resamples of the dialogues with replacement, the same
    resamples for every run; in each, a run's score is the mean over its seeds of ``metric`` on the
    resampled dialogues, and :math:`\Delta_b` the run's score minus the reference's. The row
    gives the observed difference, the 95% percentile interval of :math:`\Delta_b` and the
    two-sided p-value :math:`\min(1, 2\min(P(\Delta_b \le 0), P(\Delta_b \ge 0)))` (Koehn,
    "Statistical significance tests for machine translation evaluation", EMNLP 2004).

    Args:
        runs: run name -> its seeds' predictions, all on the same split; the first is the reference.
        num_classes: the number of classes.
        metric: ``accuracy``, ``weighted_f1`` or ``macro_f1``.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    reference = _check_same_split(runs)
    dialogue = dialogue_index(reference.lengths)
    weights = bootstrap_weights(len(reference.lengths), bootstrap, seed)
    resampled = {}
    rows = []
    for name, seeds in runs.items():
        confusions = [confusion_by_dialogue(s.y, s.pred, dialogue, len(s.lengths), num_classes) for s in seeds]
        full = [scores_from_confusion(c.sum(0)) for c in confusions]
        resampled[name] = np.mean([scores_from_confusion(np.einsum("bd,dij->bij", weights, c.astype(float)))[metric]
                                   for c in confusions], axis=0)
        row = {"name": name, "seeds": len(seeds)}
        for key in METRICS:
            values = np.array([f[key] for f in full], dtype=float)
            row[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                        "values": values.tolist()}
        rows.append(row)
    base = rows[0][metric]["mean"]
    first = next(iter(resampled.values()))
    for row in rows[1:]:
        delta = resampled[row["name"]] - first
        p = min(1.0, 2.0 * min(float((delta <= 0).mean()), float((delta >= 0).mean())))
        row["vs_reference"] = {"metric": metric, "difference": row[metric]["mean"] - base,
                               "ci": np.quantile(delta, [0.025, 0.975]).tolist(), "p_value": p,
                               "resamples": bootstrap, "dialogues": len(reference.lengths),
                               "test": f"paired bootstrap over test dialogues ({bootstrap} resamples)"}
    return rows


#: Fewer test dialogues than this and the comparison says it has little power.
FEW_DIALOGUES = 30


def p_value_text(p: float, resamples: int) -> str:
    """``p`` as text: below the resolution of ``resamples`` resamples, ``< 1/resamples``.

    Example:
        >>> p_value_text(0.0, 200), p_value_text(0.04, 200)
        ('< 0.005', '0.040')
    """
    return f"< {1 / resamples:.3g}" if p == 0 else f"{p:.3f}"


def comparison_markdown(rows: Sequence[dict], metric: str = "weighted_f1") -> str:
    """The comparison as a Markdown table (percentages): mean ± sample standard deviation over the
    seeds (``(n = 1)`` for one seed, which has none); below it, a warning when the test split has
    fewer than :data:`FEW_DIALOGUES` dialogues."""
    def cell(r, key):
        spread = f"± {100 * r[key]['std']:.2f}" if r["seeds"] > 1 else "(n = 1)"
        return f"{100 * r[key]['mean']:.2f} {spread}"
    lines = [f"| run | seeds | test accuracy | test weighted F1 | test macro F1 | Δ {metric.replace('_', ' ')} vs "
             f"{rows[0]['name']} [95% CI] | p |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        versus = r.get("vs_reference")
        diff = (f"{100 * versus['difference']:+.2f} [{100 * versus['ci'][0]:+.2f}, {100 * versus['ci'][1]:+.2f}]"
                if versus else "reference")
        p = p_value_text(versus["p_value"], versus["resamples"]) if versus else ""
        lines.append(f"| {r['name']} | {r['seeds']} | {cell(r, 'accuracy')} | {cell(r, 'weighted_f1')} | "
                     f"{cell(r, 'macro_f1')} | {diff} | {p} |")
    dialogues = rows[1]["vs_reference"]["dialogues"] if len(rows) > 1 else None
    if dialogues is not None and dialogues < FEW_DIALOGUES:
        lines.append(f"\nWarning: only {dialogues} test dialogues; the bootstrap resamples dialogues, so with so "
                     f"few the test has little power and its interval is rough.")
    return "\n".join(lines)
