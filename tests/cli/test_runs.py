"""Runs that never lose work or fail late, from the command line."""
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import write_folder
from dialoggraph.cli import main
from dialoggraph.train.checkpoint import load_checkpoint

TINY = ["--num-dialogues", "16", "--batch-size", "8", "--quiet"]
AMB = ["--model", "amb_dsgdn", "--hidden", "16", "--graph-heads", "2", "--heads", "2", "--warmup-epochs", "1",
       "--lr", "1e-3", "--modalities", "text,audio"]


def one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_run_never_replaces_another_silently(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--model", "mlp", "--epochs", "2", "--out", out, *TINY]) == 0
    before = json.loads(Path(out, "metrics.json").read_text())
    err = one_line_error(capsys, ["train", "--model", "mlp", "--epochs", "1", "--out", out, *TINY])
    assert "holds a run" in err and "--overwrite" in err and "--resume" in err
    assert json.loads(Path(out, "metrics.json").read_text()) == before            # untouched
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", out, "--overwrite", *TINY]) == 0
    assert json.loads(Path(out, "metrics.json").read_text())["epochs_run"] == 1


def test_without_out_a_new_timestamped_folder_under_runs(tmp_path, capsys):
    assert main(["train", "--model", "mlp", "--epochs", "1", "--num-dialogues", "16"]) == 0
    assert main(["train", "--model", "mlp", "--epochs", "1", "--num-dialogues", "16"]) == 0
    runs = sorted(os.listdir("runs"))
    assert len(runs) == 2 and all(r.startswith("mlp-") for r in runs)
    assert "writing the run to runs/mlp-" in capsys.readouterr().err
    assert all(Path("runs", r, "best.pt").exists() for r in runs)


def test_resume_needs_no_flags_and_ends_where_an_uninterrupted_run_does(tmp_path, capsys):
    whole, cut = str(tmp_path / "whole"), str(tmp_path / "cut")
    assert main(["train", *AMB, "--epochs", "4", "--out", whole, *TINY]) == 0
    assert main(["train", *AMB, "--epochs", "2", "--out", cut, *TINY]) == 0
    assert main(["train", "--resume", os.path.join(cut, "last.pt"), "--epochs", "4"]) == 0
    a = load_checkpoint(os.path.join(whole, "last.pt"))
    b = load_checkpoint(os.path.join(cut, "last.pt"))
    assert b["epoch"] == 4 and all((a["model_state"][k] == b["model_state"][k]).all() for k in a["model_state"])
    assert [json.loads(line)["epoch"] for line in open(os.path.join(cut, "log.jsonl"))] == [1, 2, 3, 4]
    capsys.readouterr()
    err = one_line_error(capsys, ["train", "--resume", os.path.join(cut, "last.pt"), "--hidden", "32"])
    assert "cannot change --hidden" in err


def test_evaluate_reuses_the_training_data_and_refuses_other_features(tmp_path, capsys):
    root = write_folder(tmp_path / "data", ("train", "test"))
    rng = np.random.default_rng(1)
    out = str(tmp_path / "run")
    assert main(["train", "--model", "mlp", "--dataset", "folder", "--root", str(root), "--epochs", "1",
                 "--quiet", "--out", out]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", os.path.join(out, "best.pt")]) == 0    # no --dataset folder needed
    assert json.loads(capsys.readouterr().out)["test"]["num_utterances"] == 36
    np.save(root / "test.text.npy", rng.standard_normal((36, 6)).astype(np.float32))
    err = one_line_error(capsys, ["evaluate", "--checkpoint", os.path.join(out, "best.pt")])
    assert "'text' features are 6 wide, the model's 4: featurized differently" in err


def test_bad_setups_fail_in_one_line_before_training(tmp_path, capsys, monkeypatch):
    assert "name text more than once" in one_line_error(
        capsys, ["train", "--model", "mlp", "--modalities", "text,text", *TINY])
    (tmp_path / "file").write_text("")
    assert "cannot write the run to" in one_line_error(
        capsys, ["train", "--model", "mlp", "--out", str(tmp_path / "file" / "x"), *TINY])
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert "sees no CUDA GPU" in one_line_error(capsys, ["train", "--model", "mlp", "--device", "cuda", *TINY])


def test_files_get_the_usual_permissions(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--epochs", "1", "--out", str(out), *TINY]) == 0
    umask = os.umask(0)
    os.umask(umask)
    modes = {name: stat.S_IMODE(os.stat(out / name).st_mode) for name in ("best.pt", "metrics.json", "config.yaml")}
    assert set(modes.values()) == {0o666 & ~umask}
    assert yaml.safe_load((out / "config.yaml").read_text())["model"] == "mlp"


def test_version_and_help(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("dialoggraph 0.")
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "``" not in capsys.readouterr().out
