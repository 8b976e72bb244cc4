import json

import matplotlib.image
import pytest

from dialoggraph.cli import main

TINY = ["--num-dialogues", "16", "--epochs", "2", "--batch-size", "8", "--quiet"]
AMB = ["--model", "amb_dsgdn", "--hidden", "16", "--graph-heads", "2", "--heads", "2", "--modalities", "text,audio"]


def test_evaluate_report_writes_the_report(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *AMB, "--out", str(run), *TINY]) == 0
    image = matplotlib.image.imread(str(run / "curves.png"))         # training curves in every run folder
    assert image.shape[0] > 100
    metrics = json.loads((run / "metrics.json").read_text())
    capsys.readouterr()
    report = tmp_path / "report"
    assert main(["evaluate", "--checkpoint", str(run / "best.pt"), "--report", str(report), "--snr", "10", "0",
                 "--bootstrap", "100"]) == 0
    printed = capsys.readouterr().out
    assert "report.html" in printed
    written = json.loads((report / "metrics.json").read_text())
    assert written["overall"]["weighted_f1"] == pytest.approx(metrics["test"]["weighted_f1"])
    assert written["meta"]["split"] == "test" and written["meta"]["bootstrap"] == 100
    assert (report / "report.html").exists() and (report / "robustness.svg").exists()
    assert main(["evaluate", "--checkpoint", str(run / "best.pt"), "--without", "audio"]) == 0
    without = json.loads(capsys.readouterr().out)["test"]
    assert without["without"] == "audio" and 0 <= without["weighted_f1"] <= 1


def test_evaluate_without_a_needed_modality_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "mdget_mer", "--out", str(run), *TINY]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run / "best.pt"), "--without", "audio"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot run without 'audio'" in err


def test_compare_runs(tmp_path, capsys):
    for name, model in (("mlp", ["--model", "mlp"]), ("amb", AMB)):
        assert main(["train", *model, "--seeds", "0", "1", "--out", str(tmp_path / name), *TINY]) == 0
    capsys.readouterr()
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "mlp"), str(tmp_path / "amb"), "--names", "MLP", "AMB-DSGDN",
                 "--bootstrap", "100", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| MLP | 2 |" in table and "| AMB-DSGDN | 2 |" in table
    rows = json.loads((out / "compare.json").read_text())["rows"]
    summary = json.loads((tmp_path / "amb" / "summary.json").read_text())
    assert rows[1]["weighted_f1"]["values"] == pytest.approx(summary["test"]["weighted_f1"]["values"])
    assert 0 <= rows[1]["vs_reference"]["p_value"] <= 1
    assert matplotlib.image.imread(str(out / "compare.png")).shape[0] > 100
    assert main(["compare", str(tmp_path / "nothing")]) == 2
    assert "not a train run folder" in capsys.readouterr().err


def test_tensorboard_logs_the_epoch_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    run = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--tensorboard", "--out", str(run), *TINY]) == 0
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"train/loss", "train/lr", "dev/accuracy", "dev/weighted_f1",
                                             "dev/macro_f1"}
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    logged = [e.value for e in events.Scalars("dev/weighted_f1")]
    assert logged == pytest.approx([r["val_weighted_f1"] for r in log])


def test_a_bootstrap_of_no_resamples_is_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--out", str(run), *TINY]) == 0
    capsys.readouterr()
    for command in (["evaluate", "--checkpoint", str(run / "best.pt"), "--report", str(tmp_path / "r")],
                    ["compare", str(run)]):
        assert main([*command, "--bootstrap", "0"]) == 2
        assert capsys.readouterr().err.strip() == "dialoggraph: error: --bootstrap must be at least 1, got 0"
