"""Classification metrics from scikit-learn, as plain JSON-ready numbers (fractions in [0, 1])."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, label_names: Sequence[str]) -> dict:
    """Accuracy, weighted / macro F1, per-class F1 and the confusion matrix (rows: true labels).

    Unlabeled utterances (``y_true < 0``) are left out.
    """
    keep = y_true >= 0
    y_true, y_pred = y_true[keep], y_pred[keep]
    labels = list(range(len(label_names)))
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_f1": {name: float(v) for name, v in zip(label_names, per_class)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "num_utterances": int(len(y_true)),
    }


def summarize_seeds(runs: Sequence[dict], keys: Sequence[str] = ("accuracy", "weighted_f1", "macro_f1")) -> dict:
    """Mean and (sample) standard deviation of each metric over seeds."""
    out = {}
    for key in keys:
        values = np.array([run[key] for run in runs], dtype=float)
        out[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "values": values.tolist()}
    return out
