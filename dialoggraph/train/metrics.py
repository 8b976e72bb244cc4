"""Classification metrics from scikit-learn, as plain JSON-ready numbers (fractions in [0, 1]).

Every metric in :data:`METRICS` is reported for every split and can select the best epoch
(``TrainConfig.monitor``, ``--monitor``). A metric of your own is one registered function:

.. code-block:: python

    from sklearn.metrics import balanced_accuracy_score
    from dialoggraph.train import register_metric

    @register_metric("balanced_accuracy")
    def balanced_accuracy(y_true, y_pred, labels):
        return balanced_accuracy_score(y_true, y_pred)
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

#: name -> ``metric(y_true, y_pred, labels) -> float`` over the labelled utterances (``labels``: the
#: class ids ``0 .. C-1``); higher is better.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray, list[int]], float]] = {}


def register_metric(name: str) -> Callable:
    """Decorator: report ``metric(y_true, y_pred, labels)`` as ``name`` (a name is registered once)."""
    def add(metric: Callable) -> Callable:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is already registered")
        METRICS[name] = metric
        return metric
    return add


@register_metric("accuracy")
def accuracy(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int]) -> float:
    return accuracy_score(y_true, y_pred)


@register_metric("weighted_f1")
def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int]) -> float:
    return f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)


@register_metric("macro_f1")
def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int]) -> float:
    return f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, label_names: Sequence[str]) -> dict:
    """Every registered metric (accuracy, weighted / macro F1, ...), per-class F1 and the confusion
    matrix (rows: true labels); 0 for a metric when no utterance is labelled.

    Unlabeled utterances (``y_true < 0``) are left out.
    """
    keep = y_true >= 0
    y_true, y_pred = y_true[keep], y_pred[keep]
    labels = list(range(len(label_names)))
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    scores = {name: float(metric(y_true, y_pred, labels)) if len(y_true) else 0.0 for name, metric in METRICS.items()}
    return {
        **scores,
        "per_class_f1": {name: float(v) for name, v in zip(label_names, per_class)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "num_utterances": int(len(y_true)),
    }


def summarize_seeds(runs: Sequence[dict], keys: Sequence[str] | None = None) -> dict:
    """Mean and (sample) standard deviation of each metric (default: every registered one) over seeds."""
    out = {}
    for key in keys or [name for name in METRICS if name in runs[0]]:
        values = np.array([run[key] for run in runs], dtype=float)
        out[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "values": values.tolist()}
    return out
