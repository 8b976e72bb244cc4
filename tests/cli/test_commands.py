import csv
import json

import numpy as np
import pytest

from dialoggraph.cli import main


def test_inspect_synthetic_prints_relation_matrix(capsys):
    assert main(["inspect", "--num", "1", "--past", "1", "--future", "1"]) == 0
    out = capsys.readouterr().out
    assert "SyntheticDialogues" in out and "neutral, surprise" in out
    rows = [line for line in out.splitlines() if "dag<-" in line]
    assert rows and rows[0].split()[3].startswith("o")  # first utterance: self loop at column 0
    assert rows[0].endswith("dag<-[]")


def test_inspect_folder(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("dialogue,speaker,label\nd,A,joy\nd,B,sad\nd,A,joy\n")
    np.save(tmp_path / "train.text.npy", np.zeros((3, 2), dtype=np.float32))
    (tmp_path / "dev.csv").write_text("dialogue,speaker,label\ne,A,joy\n")
    np.save(tmp_path / "dev.text.npy", np.zeros((1, 2), dtype=np.float32))
    assert main(["inspect", "--dataset", "folder", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # A B A -- row i shows the sources of utterance i: o self, C/S inter/intra future, c/s past.
    assert [line.split()[3] for line in out.splitlines() if "dag<-" in line] == ["oCS", "coC", "sco"]


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["inspect", "--dataset", "meld"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "dialoggraph: error: DatasetConfig: root is required for dataset 'meld'"
    assert main(["inspect", "--dataset", "folder", "--root", str(tmp_path / "x")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


TINY = ["--num-dialogues", "16", "--epochs", "2", "--batch-size", "8", "--quiet"]


def test_train_evaluate_predict_round_trip(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "amb_dsgdn", "--hidden", "16", "--graph-heads", "2", "--heads", "2",
                 "--modalities", "text,audio", "--no-feature-gates", "--out", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) >= {"val", "test", "best_epoch"}
    assert 0 <= metrics["test"]["weighted_f1"] <= 1
    printed = capsys.readouterr().out
    assert "test wF1" in printed

    assert main(["evaluate", "--checkpoint", str(out / "best.pt"), "--num-dialogues", "16", "--split", "test"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test"]["weighted_f1"] == pytest.approx(metrics["test"]["weighted_f1"])

    csv_path = tmp_path / "pred.csv"
    assert main(["predict", "--checkpoint", str(out / "best.pt"), "--num-dialogues", "16",
                 "--out", str(csv_path)]) == 0
    rows = list(csv.DictReader(csv_path.open()))
    assert rows and set(rows[0]) >= {"dialogue", "utterance", "speaker", "label", "predicted", "p_neutral"}
    assert abs(sum(float(rows[0][f"p_{n}"]) for n in ["neutral", "surprise", "fear", "sadness", "joy",
                                                        "disgust", "anger"]) - 1) < 1e-4
    accuracy = sum(r["label"] == r["predicted"] for r in rows) / len(rows)
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])


def test_several_seeds_report_mean_and_std(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--seeds", "0", "1", "--out", str(tmp_path), *TINY]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["seeds"] == [0, 1] and len(summary["test"]["weighted_f1"]["values"]) == 2
    assert (tmp_path / "seed0" / "metrics.json").exists() and (tmp_path / "seed1" / "best.pt").exists()
    assert "+-" in capsys.readouterr().out


def test_user_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--out", str(tmp_path / "m"), *TINY]) == 0
    capsys.readouterr()
    cases = [
        ["evaluate", "--checkpoint", str(tmp_path / "missing.pt")],
        ["train", "--model", "nope"],
        ["train", "--model", "mlp", "--modalities", "smell", *TINY],
        ["train", "--model", "mlp", "--resume", str(tmp_path / "m" / "last.pt"), "--dataset", "folder",
         "--root", str(tmp_path / "nowhere")],
        ["train", "--model", "amb_dsgdn", "--resume", str(tmp_path / "m" / "last.pt"), *TINY],
        ["train", "--epochs", "many"],
    ]
    for argv in cases:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        assert code == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "error" in err and "Traceback" not in err, (argv, err)


@pytest.mark.parametrize("model,options", [
    ("mfcre", ["--channels", "16", "--ffn-channels", "32", "--encoder-ffn-channels", "16", "--heads", "2",
               "--classifier-hidden", "16",
               "--fusion", "concat", "--reasoning-cell", "m"]),
    ("lfvd", ["--hidden", "16", "--heads", "2", "--dominant", "audio", "--no-use-atmosphere"])])
def test_sequence_family_trains_and_reloads_from_the_cli(tmp_path, capsys, model, options):
    out = tmp_path / model
    assert main(["train", "--model", model, *options, "--out", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    # the checkpoint rebuilds the model with its ablation settings (and LFVD's DAG pre_transform)
    assert main(["evaluate", "--checkpoint", str(out / "best.pt"), "--num-dialogues", "16", "--split", "test"]) == 0
    assert json.loads(capsys.readouterr().out)["test"]["weighted_f1"] == pytest.approx(metrics["test"]["weighted_f1"])


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_neither_torch_nor_pyg(flag):
    import subprocess
    import sys
    code = ("import sys\nfrom dialoggraph.cli import main\ntry:\n    main([%r])\nexcept SystemExit as exc:\n"
            "    assert exc.code == 0\nprint(sorted(m for m in ('torch', 'torch_geometric') if m in sys.modules))"
            % flag)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert ("dialoggraph 0." in done.stdout) if flag == "--version" else ("featurize" in done.stdout)
