import numpy as np
import pytest
from sklearn.metrics import f1_score

from dialoggraph.analysis import SeedPredictions, compare_runs, comparison_markdown


def seeds(correct: float, count: int, offset: int = 0, dialogues: int = 80, classes: int = 4):
    """``count`` seeds predicting the same labels right with probability ``correct``."""
    rng = np.random.default_rng(0)
    lengths = list(rng.integers(2, 9, size=dialogues))
    y = rng.integers(0, classes, size=sum(lengths))
    out = []
    for s in range(count):
        r = np.random.default_rng(100 + s + offset)
        pred = np.where(r.random(len(y)) < correct, y, r.integers(0, classes, size=len(y)))
        out.append(SeedPredictions([f"d{i}" for i in range(dialogues)], lengths, y, pred))
    return out


def test_rows_hold_mean_and_std_of_each_seed():
    runs = {"weak": seeds(0.4, 3), "strong": seeds(0.8, 3, offset=10)}
    rows = compare_runs(runs, 4, bootstrap=300)
    for row, name in zip(rows, runs):
        per_seed = [f1_score(s.y, s.pred, average="weighted") for s in runs[name]]
        assert row["weighted_f1"]["values"] == pytest.approx(per_seed)
        assert row["weighted_f1"]["mean"] == pytest.approx(np.mean(per_seed))
        assert row["weighted_f1"]["std"] == pytest.approx(np.std(per_seed, ddof=1))
    versus = rows[1]["vs_reference"]
    assert versus["difference"] == pytest.approx(rows[1]["weighted_f1"]["mean"] - rows[0]["weighted_f1"]["mean"])
    assert versus["difference"] > 0.2 and versus["p_value"] < 0.01 and versus["ci"][0] > 0
    assert "vs_reference" not in rows[0]
    table = comparison_markdown(rows)
    assert table.count("\n") == 3 and "| strong | 3 |" in table and "reference" in table


def test_equal_runs_are_not_significant():
    rows = compare_runs({"a": seeds(0.6, 2), "b": seeds(0.6, 2)}, 4, metric="macro_f1", bootstrap=200)
    assert rows[1]["vs_reference"]["difference"] == 0 and rows[1]["vs_reference"]["p_value"] == 1.0
    noisy = compare_runs({"a": seeds(0.6, 2), "b": seeds(0.6, 2, offset=7)}, 4, bootstrap=300)
    assert noisy[1]["vs_reference"]["p_value"] > 0.05


def test_runs_on_other_dialogues_are_refused():
    other = seeds(0.6, 1, dialogues=40)
    with pytest.raises(ValueError, match="other dialogues or labels"):
        compare_runs({"a": seeds(0.6, 1), "b": other}, 4)
    with pytest.raises(ValueError, match="metric must be"):
        compare_runs({"a": seeds(0.6, 1)}, 4, metric="f1")


def test_one_seed_p_below_resolution_and_few_dialogues_are_said():
    rows = compare_runs({"weak": seeds(0.3, 1), "strong": seeds(0.95, 1, offset=3)}, 4, bootstrap=200)
    assert rows[1]["vs_reference"]["p_value"] == 0.0
    table = comparison_markdown(rows)
    assert "(n = 1)" in table and "± 0.00" not in table
    assert "| < 0.005 |" in table and "0.000" not in table
    assert "Warning" not in table                                      # 80 dialogues
    few = comparison_markdown(compare_runs({"a": seeds(0.5, 2, dialogues=6), "b": seeds(0.7, 2, offset=1,
                                                                                      dialogues=6)}, 4))
    assert "Warning: only 6 test dialogues" in few and "± " in few
