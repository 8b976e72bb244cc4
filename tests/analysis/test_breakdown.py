import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from dialoggraph.analysis.breakdown import (accuracy_by_bucket, bootstrap_scores, bootstrap_weights,
                                            confusion_by_dialogue, dialogue_index, emotion_shift,
                                            length_and_position, scores_from_confusion)


def random_predictions(seed=0, dialogues=30, classes=5):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, size=dialogues)
    n = int(lengths.sum())
    y = rng.integers(0, classes - 1, size=n)         # the last class never occurs as a label
    y[rng.random(n) < 0.1] = -1                      # unlabelled utterances
    pred = np.where(rng.random(n) < 0.6, np.maximum(y, 0), rng.integers(0, classes, size=n))
    return lengths, y, pred


def test_scores_from_confusion_equal_scikit_learn():
    lengths, y, pred = random_predictions()
    classes = 5
    confusion = confusion_by_dialogue(y, pred, dialogue_index(lengths), len(lengths), classes)
    assert confusion.shape == (len(lengths), classes, classes) and confusion.sum() == (y >= 0).sum()
    scores = scores_from_confusion(confusion.sum(0))
    keep = y >= 0
    labels = list(range(classes))
    p, r, f, s = precision_recall_fscore_support(y[keep], pred[keep], labels=labels, zero_division=0)
    np.testing.assert_allclose(scores["precision"], p)
    np.testing.assert_allclose(scores["recall"], r)
    np.testing.assert_allclose(scores["f1"], f)
    np.testing.assert_array_equal(scores["support"], s)
    assert scores["accuracy"] == pytest.approx(accuracy_score(y[keep], pred[keep]))
    for average in ("weighted", "macro"):
        assert scores[f"{average}_f1"] == pytest.approx(
            f1_score(y[keep], pred[keep], labels=labels, average=average, zero_division=0))


def test_bootstrap_resamples_dialogues():
    weights = bootstrap_weights(7, samples=50, seed=1)
    assert weights.shape == (50, 7) and (weights.sum(1) == 7).all()
    assert (weights == 0).any()                      # with replacement: some dialogues left out
    lengths, y, pred = random_predictions(seed=2, dialogues=60)
    confusion = confusion_by_dialogue(y, pred, dialogue_index(lengths), len(lengths), 5)
    point = scores_from_confusion(confusion.sum(0))
    ci = bootstrap_scores(confusion, samples=400, seed=0)
    for key in ("accuracy", "weighted_f1", "macro_f1"):
        low, high = ci[key]
        assert low < point[key] < high and high - low < 0.3
    assert ci["f1"].shape == (2, 5)
    # identical dialogues: every resample is the same data, so the interval collapses to the point
    same = np.repeat(confusion[:1], 20, axis=0)
    collapsed = bootstrap_scores(same, samples=30)
    np.testing.assert_allclose(collapsed["accuracy"], scores_from_confusion(same[0])["accuracy"])


def test_emotion_shift_matches_a_hand_count():
    # dialogue 0: speakers A B A A B C, dialogue 1: A A
    speaker = np.array([0, 1, 0, 0, 1, 2, 0, 0])
    dialogue = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    y = np.array([1, 2, 1, 3, -1, 2, 4, 4])
    pred = np.array([1, 2, 0, 3, 0, 2, 4, 0])
    # intra (same speaker's previous labelled): u2 A prev 1 -> no shift (wrong); u3 A prev 1 -> shift
    # (right); u5 C none; u4 unlabelled; u7 A prev 4 -> no shift (wrong).
    # inter (latest labelled of another speaker): u1 B <- 1 shift (right); u2 A <- 2 shift (wrong);
    # u3 A <- 2 shift (right); u5 C <- A's 3 shift (right).
    out = emotion_shift(y, pred, speaker, dialogue)
    assert out["intra_speaker"] == {"shift": {"accuracy": 1.0, "count": 1},
                                    "no_shift": {"accuracy": 0.0, "count": 2}}
    assert out["inter_speaker"]["shift"] == {"accuracy": 0.75, "count": 4}
    assert out["inter_speaker"]["no_shift"] == {"accuracy": None, "count": 0}


def test_accuracy_by_length_and_position():
    y = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, -1])
    pred = np.array([0, 1, 1, 1, 0, 1, 0, 0, 1, 0])
    out = length_and_position(y, pred, [1, 9])                # a 1-utterance and a 9-utterance dialogue
    length = {b["bucket"]: (b["accuracy"], b["count"]) for b in out["length"]}
    assert length["1-4"] == (1.0, 1) and length["9-16"] == (5 / 8, 8) and length["5-8"] == (None, 0)
    position = {b["bucket"]: (b["accuracy"], b["count"]) for b in out["position"]}
    # position 1: right (first dialogue), wrong; 2-3: right, right; 4-7: wrong, right, right, right;
    # 8-15: wrong, and position 9 is unlabelled
    assert position["1"] == (0.5, 2) and position["2-3"] == (1.0, 2)
    assert position["4-7"] == (0.75, 4) and position["8-15"] == (0.0, 1)
    assert [b["bucket"] for b in accuracy_by_bucket(y, pred, np.arange(10), (0, 5))] == ["0-4", "5+"]
