import numpy as np

from dialoggraph.train.cli import main


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
    assert err.strip() == "dialoggraph: error: --root is required for --dataset meld"
    assert main(["inspect", "--dataset", "folder", "--root", str(tmp_path / "x")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
