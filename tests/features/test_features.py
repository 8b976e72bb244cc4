import numpy as np
import pytest

from dialoggraph.data import DialogueValidationError
from dialoggraph.features import TfidfSVDFeaturizer, parse_timestamp, timing_features


def test_parse_timestamp():
    assert parse_timestamp("00:16:16,059") == pytest.approx(976.059)
    assert parse_timestamp("0:00:01,5") == pytest.approx(1.5)
    with pytest.raises(ValueError):
        parse_timestamp("16:16")


def test_timing_features():
    out = timing_features(["0:00:01,000", "0:00:05,000"], ["0:00:03,000", "0:00:04,000"], ["a b c d", "x"])
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert out[0] == pytest.approx(np.log1p([2.0, 2.0, 4.0]))
    assert out[1] == pytest.approx(np.log1p([0.0, 0.0, 1.0]))  # negative duration clamped
    with pytest.raises(DialogueValidationError, match="meld.csv, row 1"):
        timing_features(["0:00:01,000", "bad"], ["0:00:02,000", "0:00:03,000"], ["a", "b"], "meld.csv")


def test_tfidf_svd_featurizer_is_deterministic():
    texts = ["I am so happy today", "this is terrible news", "happy happy joy", "terrible day today",
             "what a day", "so terrible"] * 3
    a = TfidfSVDFeaturizer(dim=4).fit(texts).transform(["happy day", "unknownword"])
    b = TfidfSVDFeaturizer(dim=4).fit(texts).transform(["happy day", "unknownword"])
    assert a.shape == (2, 4) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.allclose(a[1], 0)  # out of vocabulary -> zero vector
    with pytest.raises(RuntimeError):
        TfidfSVDFeaturizer().transform(["x"])
