"""A user's mistake never becomes a run on other data than the one named: the real CLI on real
files, exit code 2, one line naming the cause, and nothing written."""
import csv
import json
import os

import pytest

from conftest import write_folder
from dialoggraph.cli import main

HEADER = ["dialogue_id", "utterance_id", "speaker", "text", "emotion", "split"]


def write_transcript(path, header=HEADER, emotions=("joy", "sad")):
    rows = [header]
    for d, split in enumerate(["train"] * 4 + ["test"]):
        for u in range(3):
            rows.append([f"d{d}", u, "AB"[u % 2], f"words {d} {u} here", emotions[(d + u) % len(emotions)], split])
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return str(path)


def one_line_error(argv, capsys):
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2, (argv, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_misspelled_column_is_refused_with_the_closest_name(tmp_path, capsys):
    header = [("emotoin" if c == "emotion" else c) for c in HEADER]
    transcript = write_transcript(tmp_path / "t.csv", header)
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "out"), "--quiet"],
                         capsys)
    assert "unknown column 'emotoin' (did you mean 'emotion'?)" in err and "t.csv" in err
    assert not os.path.exists(tmp_path / "out")


def test_a_train_split_without_labels_is_refused_at_featurize(tmp_path, capsys):
    transcript = write_transcript(tmp_path / "t.csv", emotions=("",))
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "out"), "--quiet"],
                         capsys)
    assert "no train utterance has an emotion label" in err
    assert not os.path.exists(tmp_path / "out")


def test_two_spellings_of_one_label_are_refused_unless_listed(tmp_path, capsys):
    transcript = write_transcript(tmp_path / "t.csv", emotions=("joy", "Joy", "joy", "sad"))
    out = tmp_path / "out"
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(out), "--quiet"], capsys)
    assert "labels 'Joy' (4) and 'joy' (8) differ only by case or spaces" in err and "--labels" in err
    assert not os.path.exists(out)
    assert main(["featurize", "--transcripts", transcript, "--out", str(out), "--quiet",
                 "--labels", "joy,Joy,sad"]) == 0                           # listed on purpose: three classes
    with open(out / "labels.txt") as f:
        assert f.read().split() == ["joy", "Joy", "sad"]


def test_a_root_is_never_ignored(tmp_path, capsys):
    folder = tmp_path / "features"
    write_folder(folder, splits=("train", "dev", "test"))
    run = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--root", str(folder), "--epochs", "1", "--out", str(run),
                 "--quiet"]) == 0                                           # the folder, inferred
    with open(run / "config.yaml") as f:
        assert "dataset: folder" in f.read()
    err = one_line_error(["train", "--model", "mlp", "--root", str(tmp_path), "--out", str(tmp_path / "r2")],
                         capsys)
    assert "cannot tell the dataset kind" in err and "--dataset" in err
    err = one_line_error(["train", "--model", "mlp", "--dataset", "synthetic", "--root", str(folder),
                          "--out", str(tmp_path / "r3")], capsys)
    assert "dataset 'synthetic' reads no files" in err
    assert not os.path.exists(tmp_path / "r2") and not os.path.exists(tmp_path / "r3")


def test_predict_names_the_file_and_line_of_a_label_the_model_has_not(tmp_path, capsys):
    transcript = write_transcript(tmp_path / "t.csv")
    folder, run = tmp_path / "features", tmp_path / "run"
    assert main(["featurize", "--transcripts", transcript, "--out", str(folder), "--quiet"]) == 0
    assert main(["train", "--model", "mlp", "--root", str(folder), "--epochs", "1", "--out", str(run),
                 "--quiet"]) == 0
    new = write_transcript(tmp_path / "new.csv", emotions=("joy", "fear"))
    err = one_line_error(["predict", "--checkpoint", str(run / "best.pt"), "--transcripts", new,
                          "--out", str(tmp_path / "p.csv")], capsys)
    assert "new.csv, line 3 (dialogue 'd0', utterance 1): emotion 'fear' is not among the labels joy, sad" in err
    assert not os.path.exists(tmp_path / "p.csv")


def test_a_non_utf8_transcript_names_its_line_and_reads_with_encoding(tmp_path, capsys):
    transcript = write_transcript(tmp_path / "t.csv")
    lines = open(transcript, encoding="utf-8").read().splitlines()
    lines[4] = lines[4].replace("words", "café")
    with open(transcript, "w", encoding="latin-1", newline="") as f:
        f.write("\n".join(lines) + "\n")
    out = tmp_path / "out"
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(out), "--quiet"], capsys)
    assert "t.csv, line 5: not utf-8 text" in err and "--encoding" in err
    assert not os.path.exists(out)
    assert main(["featurize", "--transcripts", transcript, "--out", str(out), "--quiet",
                 "--encoding", "latin-1"]) == 0
    written = "".join(open(out / f"{split}.csv", encoding="utf-8").read() for split in ("train", "dev", "test"))
    assert "café 1 0" in written


def test_another_delimiter_is_named(tmp_path, capsys):
    transcript = write_transcript(tmp_path / "t.csv")
    text = open(transcript).read().replace(",", ";")
    open(transcript, "w").write(text)
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "out"), "--quiet"],
                         capsys)
    assert "missing column(s)" in err and "it looks separated by ';'" in err


def test_compare_refuses_other_data_and_flags_other_modalities(tmp_path, capsys, monkeypatch):
    tiny = ["--num-dialogues", "16", "--epochs", "1", "--batch-size", "8", "--quiet"]
    assert main(["train", "--model", "mlp", "--modalities", "text", "--out", str(tmp_path / "text"), *tiny]) == 0
    assert main(["train", "--model", "mlp", "--out", str(tmp_path / "all"), *tiny]) == 0     # every modality
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "text"), str(tmp_path / "all"), "--bootstrap", "50"]) == 0
    said = capsys.readouterr()
    assert "warning: the runs use different modalities: text text; all text, audio, visual" in said.err
    assert "Warning: the runs use different modalities" in said.out
    folder = tmp_path / "features"
    write_folder(folder, splits=("train", "dev", "test"))
    copy = tmp_path / "copy"
    write_folder(copy, splits=("train", "dev", "test"))
    for root, out in ((folder, "a"), (copy, "b")):
        assert main(["train", "--model", "mlp", "--root", str(root), "--epochs", "1", "--out", str(tmp_path / out),
                     "--quiet"]) == 0
    err = one_line_error(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")],
                         capsys)
    assert "b was trained on other data than a (root:" in err
    assert not os.path.exists(tmp_path / "cmp")
    monkeypatch.chdir(tmp_path)                          # the same folder named by a relative path
    assert main(["train", "--model", "mlp", "--root", "features", "--epochs", "1", "--out", "c", "--quiet"]) == 0
    assert main(["compare", "a", "c", "--bootstrap", "20"]) == 0


def test_every_run_says_what_it_trains_on_and_keeps_it(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "mlp", "--num-dialogues", "16", "--epochs", "1", "--out", str(out),
                 "--modalities", "text"]) == 0
    err = capsys.readouterr().err
    assert ("dialoggraph: data synthetic: train 16 dialogues / " in err
            and "modalities text 128-d (not used: audio, visual); labels neutral, surprise" in err
            and "model mlp, " in err and " parameters; device cpu" in err)
    header = json.load(open(out / "header.json"))
    assert header["modalities"] == ["text"] and header["data_modalities"] == ["text", "audio", "visual"]
    assert header["splits"]["train"]["dialogues"] == 16 and header["parameters"] > 0


@pytest.mark.parametrize("floor", ["logreg", "mlp", "bigru"])
def test_the_floors_read_every_modality_the_data_has(floor, tmp_path, capsys):
    assert main(["train", "--model", floor, "--num-dialogues", "16", "--epochs", "1", "--out", str(tmp_path)]) == 0
    assert "modalities text 128-d, audio 64-d, visual 64-d;" in capsys.readouterr().err
    assert json.load(open(tmp_path / "header.json"))["modalities"] == ["text", "audio", "visual"]


def test_a_hub_model_without_a_hub_fails_at_once_naming_it(tmp_path, capsys, monkeypatch):
    import socket
    import time
    from dialoggraph.extras import pretrained

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")
    monkeypatch.setattr(socket, "create_connection", no_network)        # nothing here reaches out
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    loaded = []
    with pytest.raises(FileNotFoundError, match=r"'someone/some-model': .* hub is unavailable \(huggingface.co "
                                                r"cannot be reached\)"):
        pretrained(loaded.append, "someone/some-model")
    assert loaded == []
    with pytest.raises(FileNotFoundError, match="'/no/such/model': no such folder"):
        pretrained(loaded.append, "/no/such/model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    transcript = write_transcript(tmp_path / "t.csv")
    start = time.perf_counter()
    err = one_line_error(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "out"), "--quiet",
                          "--text", "sbert:someone/some-model"], capsys)
    assert time.perf_counter() - start < 30
    assert "cannot load the model 'someone/some-model'" in err and "HF_HUB_OFFLINE is set" in err
    assert not os.path.exists(tmp_path / "out" / "featurizers.json")
