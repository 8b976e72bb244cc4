import base64
import json
import xml.etree.ElementTree as ET

import matplotlib.image
import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from dialoggraph.analysis import GaussianNoise, evaluation_report, removed, write_report, zeroed
from dialoggraph.analysis.report import report_tables
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig, MDGETMER
from dialoggraph.train import TrainConfig, Trainer
from dialoggraph.train.evaluation import predict


@pytest.fixture(scope="module")
def trained():
    """A small AMB-DSGDN trained for 3 epochs on synthetic dialogues, and its test split."""
    config = AMBDSGDNConfig(hidden=16, graph_heads=2, heads=2, window=2)
    transform = AMBDSGDN.required_transform(config)
    data = {s: SyntheticDialogues(n, s, seed=4, max_len=10, pre_transform=transform)
            for s, n in (("train", 48), ("dev", 12), ("test", 16))}
    trainer = Trainer(AMBDSGDN, data["train"], data["dev"], TrainConfig(epochs=3, quiet=True, curves=False),
                      model_config=config)
    trainer.fit()
    return trainer.model.eval(), data["test"]


def test_report_numbers_equal_scikit_learn(trained):
    model, test = trained
    names = test.label_names
    report = evaluation_report(model, test, names, bootstrap=200, snrs=(30.0, 0.0))
    out = predict(model, test)
    y, pred = out["y"], out["probs"].argmax(-1)
    overall = report["overall"]
    assert overall["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert overall["weighted_f1"] == pytest.approx(f1_score(y, pred, labels=range(7), average="weighted",
                                                            zero_division=0))
    assert overall["macro_f1"] == pytest.approx(f1_score(y, pred, labels=range(7), average="macro", zero_division=0))
    for key in ("accuracy", "weighted_f1", "macro_f1"):
        low, high = overall[f"{key}_ci"]
        assert low <= overall[key] <= high
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(7), zero_division=0)
    for c, name in enumerate(names):
        got = report["per_class"][name]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx((p[c], r[c], f[c], s[c]))
    assert report["confusion"]["counts"] == confusion_matrix(y, pred, labels=range(7)).tolist()
    assert overall["num_utterances"] == len(y) and overall["num_dialogues"] == len(test)
    assert set(report["modality_heads"]) == {"text", "audio", "visual"}
    heads = out["modality_probs"]
    assert report["modality_heads"]["audio"]["accuracy"] == pytest.approx(accuracy_score(y, heads["audio"].argmax(-1)))
    # AMB-DSGDN runs without a modality: every "removed" entry is measured
    assert all(w["removed"] is not None for w in report["robustness"]["missing"].values())
    assert [p["snr_db"] for p in report["robustness"]["noise"]["text"]] == [30.0, 0.0]


def test_report_files_are_written_and_open(trained, tmp_path):
    model, test = trained
    report = evaluation_report(model, test, test.label_names, bootstrap=50, snrs=(10.0,))
    paths = write_report(report, str(tmp_path), "a report")
    assert json.loads((tmp_path / "metrics.json").read_text())["overall"] == report["overall"]
    stems = ["per_class", "confusion", "shift_length_position", "modality_heads", "robustness"]
    for stem in stems:
        image = matplotlib.image.imread(str(tmp_path / f"{stem}.png"))
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
        assert ET.parse(str(tmp_path / f"{stem}.svg")).getroot().tag.endswith("svg")
    html = (tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(stems) and "src='http" not in html
    embedded = html.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(embedded) == (tmp_path / "per_class.png").read_bytes()
    md = (tmp_path / "report.md").read_text()
    assert "## Per class" in md and "![Confusion matrix](confusion.png)" in md
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]
    assert len(paths) == 3 + 2 * len(stems)


def test_noise_has_the_asked_ratio_and_vanishes_at_high_snr(trained):
    model, test = trained
    x = torch.randn(4000, 64) * 3.0
    batch = SyntheticDialogues(1)[0]
    batch["utterance"].x_text = x.clone()
    noisy = GaussianNoise("text", 10.0, seed=1)(batch)["utterance"].x_text
    ratio = x.pow(2).mean() / (noisy - x).pow(2).mean()
    assert 10 * torch.log10(ratio).item() == pytest.approx(10.0, abs=0.1)
    clean = predict(model, test)["probs"].argmax(-1)
    assert np.array_equal(predict(model, test, perturb=GaussianNoise("audio", 150.0))["probs"].argmax(-1), clean)
    assert not np.array_equal(predict(model, test, perturb=GaussianNoise("text", -20.0))["probs"],
                              predict(model, test)["probs"])


def test_a_removed_modality_drops_its_head(trained):
    model, test = trained
    full = predict(model, test)["modality_probs"]
    without = predict(model, test, perturb=removed(model, "audio"))
    assert set(without["modality_probs"]) == {"text", "visual"}
    np.testing.assert_allclose(without["modality_probs"]["text"], full["text"], atol=1e-6)
    zero = predict(model, test, perturb=zeroed("audio"))
    assert not np.allclose(zero["modality_probs"]["audio"], full["audio"])


def test_a_model_that_needs_every_modality_is_refused_in_one_line():
    model = MDGETMER({"text": 8, "audio": 4, "visual": 4}, 3)
    with pytest.raises(ValueError) as info:
        removed(model, "audio")
    message = str(info.value)
    assert "\n" not in message and "MDGETMER cannot run without 'audio'" in message and "zeroed" in message
    with pytest.raises(ValueError, match="does not read 'speech'"):
        removed(model, "speech")
    text_only = AMBDSGDN({"text": 8}, 3, AMBDSGDNConfig(modalities=("text",), hidden=8, graph_heads=1, heads=1))
    with pytest.raises(ValueError, match="reads only 'text'"):
        removed(text_only, "text")


def test_a_class_without_test_support_is_marked_and_left_out_of_one_macro_f1(trained):
    model, test = trained
    names = test.label_names
    out = predict(model, test)
    y, pred = out["y"], out["probs"].argmax(-1)
    absent = names.index("disgust")
    keep = [d for d in test if not (d["utterance"].y == absent).any()]
    report = evaluation_report(model, keep, names, bootstrap=100, robustness=False)
    overall = report["overall"]
    assert report["per_class"]["disgust"]["support"] == 0
    out = predict(model, keep)
    y, pred = out["y"], out["probs"].argmax(-1)
    present = sorted(set(y.tolist()))
    assert overall["macro_f1"] == pytest.approx(f1_score(y, pred, labels=range(7), average="macro", zero_division=0))
    assert overall["macro_f1_supported"] == pytest.approx(f1_score(y, pred, labels=present, average="macro",
                                                                   zero_division=0))
    low, high = overall["macro_f1_supported_ci"]
    assert low <= overall["macro_f1_supported"] <= high
    tables = {title: rows for title, _, rows in report_tables(report)}
    overall_rows = dict((r[0], r[1]) for r in tables["Overall (95% bootstrap interval over dialogues)"])
    assert any(k.startswith("macro F1 without disgust (no test support)") for k in overall_rows)
    assert ["disgust", "", "", "no test support", "0"] in tables["Per class"]
