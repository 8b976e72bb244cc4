"""Where a model is right and wrong: per-class scores with bootstrap intervals over dialogues,
emotion shifts, dialogue length and position.

Every function reads plain arrays of one evaluated split (one entry per utterance, in dataset
order) and returns JSON-ready numbers; unlabelled utterances (``y < 0``) are left out of every
score. Scores are fractions in [0, 1].
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

LENGTH_BINS = (1, 5, 9, 17, 33)
"""Dialogue-length buckets (in utterances): 1-4, 5-8, 9-16, 17-32, 33 and more."""
POSITION_BINS = (1, 2, 4, 8, 16, 32)
"""Position buckets (1-based utterance index): 1, 2-3, 4-7, 8-15, 16-31, 32 and more."""


def dialogue_index(lengths: Sequence[int]) -> np.ndarray:
    """The dialogue number of every utterance, from the dialogues' lengths: ``[N]``."""
    return np.repeat(np.arange(len(lengths)), np.asarray(lengths, dtype=int))


def confusion_by_dialogue(y: np.ndarray, pred: np.ndarray, dialogue: np.ndarray, num_dialogues: int,
                          num_classes: int) -> np.ndarray:
    """One confusion matrix per dialogue, rows the true class: ``[D, C, C]`` counts."""
    keep = y >= 0
    flat = (dialogue[keep] * num_classes + y[keep]) * num_classes + pred[keep]
    counts = np.bincount(flat, minlength=num_dialogues * num_classes * num_classes)
    return counts.reshape(num_dialogues, num_classes, num_classes)


def scores_from_confusion(confusion: np.ndarray) -> dict[str, np.ndarray]:
    r"""Accuracy, per-class precision / recall / F1 and support, weighted and macro F1 from
    confusion matrices ``[..., C, C]`` (rows true), as scikit-learn defines them with
    ``zero_division=0``: :math:`F_1 = 2\,TP / (2\,TP + FP + FN)`, 0 where a class is neither
    present nor predicted; the macro mean runs over all ``C`` classes, the weighted one by
    support; ``macro_f1_supported`` is the macro mean over the classes with support (a class
    absent from the split has no F1 to average). Leading dimensions (bootstrap samples) are kept."""
    confusion = np.asarray(confusion, dtype=float)
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    support, predicted = confusion.sum(-1), confusion.sum(-2)
    total = support.sum(-1)

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    f1 = ratio(2 * tp, support + predicted)
    return {"accuracy": ratio(tp.sum(-1), total), "precision": ratio(tp, predicted), "recall": ratio(tp, support),
            "f1": f1, "support": support, "weighted_f1": ratio((f1 * support).sum(-1), total),
            "macro_f1": f1.mean(-1),
            "macro_f1_supported": ratio((f1 * (support > 0)).sum(-1), (support > 0).sum(-1).astype(float))}


def bootstrap_weights(num_dialogues: int, samples: int = 1000, seed: int = 0) -> np.ndarray:
    """How often each dialogue is drawn in each of ``samples`` resamples with replacement:
    ``[samples, num_dialogues]`` multinomial counts summing to ``num_dialogues`` per row."""
    if samples < 1 or num_dialogues < 1:
        raise ValueError(f"a bootstrap needs at least one resample and one dialogue, got {samples} and "
                         f"{num_dialogues}")
    rng = np.random.default_rng(seed)
    return rng.multinomial(num_dialogues, np.full(num_dialogues, 1.0 / num_dialogues), size=samples)


def bootstrap_scores(confusion: np.ndarray, samples: int = 1000, seed: int = 0,
                     level: float = 0.95) -> dict[str, np.ndarray]:
    """Percentile bootstrap intervals over dialogues: ``samples`` resamples of the dialogues
    with replacement (one multinomial draw of counts each), the scores of each resample's
    summed confusion matrix, and their ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles.

    Args:
        confusion: ``[D, C, C]`` per-dialogue confusion matrices.

    Returns:
        ``{score: [2, ...]}`` lower and upper bounds of each score of
        :func:`scores_from_confusion` (per class where the score is).
    """
    weights = bootstrap_weights(confusion.shape[0], samples, seed)             # [B, D]
    resampled = np.einsum("bd,dij->bij", weights, confusion.astype(float))
    scores = scores_from_confusion(resampled)
    tail = (1.0 - level) / 2.0
    return {k: np.quantile(v, [tail, 1.0 - tail], axis=0) for k, v in scores.items() if k != "support"}


def previous_labels(y: np.ndarray, speaker: np.ndarray, dialogue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every utterance, the label of the same speaker's previous labelled utterance and that
    of the nearest earlier labelled utterance by another speaker, in the same dialogue (-1
    where there is none).

    Reading: "across speakers" compares an utterance with the latest labelled utterance of any
    *other* speaker, the emotion the speaker answers to.
    """
    same, other = np.full(len(y), -1), np.full(len(y), -1)
    last: dict[tuple[int, int], int] = {}               # (dialogue, speaker) -> label
    latest: dict[int, list[tuple[int, int]]] = {}      # dialogue -> [(speaker, label)] of the last labels
    for i in range(len(y)):
        d, s = int(dialogue[i]), int(speaker[i])
        same[i] = last.get((d, s), -1)
        other[i] = next((label for who, label in reversed(latest.get(d, [])) if who != s), -1)
        if y[i] >= 0:
            last[(d, s)] = int(y[i])
            recent = [(who, label) for who, label in latest.get(d, []) if who != s]
            latest[d] = recent[-1:] + [(s, int(y[i]))]
    return same, other


def emotion_shift(y: np.ndarray, pred: np.ndarray, speaker: np.ndarray, dialogue: np.ndarray) -> dict:
    """Accuracy on utterances whose label differs from the previous one (``shift``) and on those
    where it does not (``no_shift``), within a speaker (``intra_speaker``: the same speaker's
    previous labelled utterance) and across speakers (``inter_speaker``: the latest labelled
    utterance of another speaker). Utterances with no such previous utterance are counted in
    neither. Each part: ``{"accuracy", "count"}``."""
    same, other = previous_labels(y, speaker, dialogue)
    out = {}
    for name, before in (("intra_speaker", same), ("inter_speaker", other)):
        has = (y >= 0) & (before >= 0)
        out[name] = {}
        for part, mask in (("shift", has & (y != before)), ("no_shift", has & (y == before))):
            count = int(mask.sum())
            out[name][part] = {"accuracy": float((pred[mask] == y[mask]).mean()) if count else None,
                               "count": count}
    return out


def _bucket_names(bins: Sequence[int]) -> list[str]:
    names = []
    for lo, hi in zip(bins, list(bins[1:]) + [None]):
        names.append(f"{lo}+" if hi is None else (str(lo) if hi - 1 == lo else f"{lo}-{hi - 1}"))
    return names


def accuracy_by_bucket(y: np.ndarray, pred: np.ndarray, values: np.ndarray, bins: Sequence[int]) -> list[dict]:
    """Accuracy and labelled count per bucket of ``values`` (``bins`` are the buckets' lower
    edges, the last one open); empty buckets are kept with accuracy ``None``."""
    which = np.digitize(values, bins) - 1
    out = []
    for k, name in enumerate(_bucket_names(bins)):
        mask = (which == k) & (y >= 0)
        count = int(mask.sum())
        out.append({"bucket": name, "accuracy": float((pred[mask] == y[mask]).mean()) if count else None,
                    "count": count})
    return out


def length_and_position(y: np.ndarray, pred: np.ndarray, lengths: Sequence[int]) -> dict:
    """Accuracy by the length of the utterance's dialogue (:data:`LENGTH_BINS`) and by its
    1-based position in it (:data:`POSITION_BINS`)."""
    lengths = np.asarray(lengths, dtype=int)
    length = np.repeat(lengths, lengths)
    position = np.concatenate([np.arange(1, n + 1) for n in lengths]) if len(lengths) else np.zeros(0, int)
    return {"length": accuracy_by_bucket(y, pred, length, LENGTH_BINS),
            "position": accuracy_by_bucket(y, pred, position, POSITION_BINS)}
