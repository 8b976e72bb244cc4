import os

import numpy as np
import pytest
import torch

from dialoggraph.data import DialogueValidationError
from dialoggraph.datasets import DialogueFolder, SyntheticDialogues, export_folder
from dialoggraph.data import INTRA
from dialoggraph.transforms import SpeakerWindowGraph


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def folder(tmp_path):
    write(tmp_path / "train.csv",
          "dialogue,speaker,label,text\n"
          "d1,Ann,joy,hi\nd1,Bob,neutral,hello\nd1,Ann,,what\nd2,Cy,anger,no\nd2,Di,joy,yes\n")
    np.save(tmp_path / "train.text.npy", np.arange(10, dtype=np.float16).reshape(5, 2))
    np.save(tmp_path / "train.audio.npy", np.ones((5, 3), dtype=np.float32))
    write(tmp_path / "test.csv", "dialogue,speaker,label\nt1,Ann,joy\n")
    np.save(tmp_path / "test.text.npy", np.zeros((1, 2), dtype=np.float32))
    np.save(tmp_path / "test.audio.npy", np.zeros((1, 3), dtype=np.float32))
    return tmp_path


def test_reads_dialogues_in_file_order(folder):
    ds = DialogueFolder(str(folder), "train", pre_transform=SpeakerWindowGraph())
    # No dev.csv: one of the two train dialogues is held out as dev.
    dev = DialogueFolder(str(folder), "dev")
    assert len(ds) + len(dev) == 2
    assert ds.label_names == ["anger", "joy", "neutral"]  # sorted train names
    assert ds.modalities == ("audio", "text")
    every = {d.dialogue_id: d for d in list(ds) + list(dev)}
    d1 = every["d1"]["utterance"]
    assert d1.y.tolist() == [1, 2, -1]
    assert d1.x_text[:, 0].tolist() == [0.0, 2.0, 4.0]  # rows 0, 1, 2 of the .npy
    assert every["d2"]["utterance"].speaker.tolist() == [0, 1]
    assert INTRA in ds[0].edge_types
    test = DialogueFolder(str(folder), "test")
    assert len(test) == 1 and test.num_classes == 3


def test_labels_txt_fixes_order_and_dev_csv_is_used(folder):
    write(folder / "labels.txt", "neutral\njoy\nanger\nsadness\n")
    write(folder / "dev.csv", "dialogue,speaker,label\nv1,A,sadness\nv1,B,2\n")
    np.save(folder / "dev.text.npy", np.zeros((2, 2), dtype=np.float32))
    np.save(folder / "dev.audio.npy", np.zeros((2, 3), dtype=np.float32))
    train = DialogueFolder(str(folder), "train", modalities=["text"])
    dev = DialogueFolder(str(folder), "dev", modalities=["text"])
    assert len(train) == 2 and train.modalities == ("text",)
    assert dev[0]["utterance"].y.tolist() == [3, 2]
    assert train.label_names == ["neutral", "joy", "anger", "sadness"]


def test_dev_holdout_is_deterministic_and_disjoint(tmp_path):
    dialogues = list(SyntheticDialogues(40, "train", seed=3, max_len=5))
    export_folder(dialogues, str(tmp_path), "train", SyntheticDialogues(1).label_names)
    train = DialogueFolder(str(tmp_path), "train")
    dev = DialogueFolder(str(tmp_path), "dev")
    dev_ids = {d.dialogue_id for d in dev}
    assert len(dev_ids) == 4
    assert dev_ids.isdisjoint(d.dialogue_id for d in train)
    again = DialogueFolder(str(tmp_path), "dev", force_reload=True)
    assert {d.dialogue_id for d in again} == dev_ids


def test_export_round_trip(tmp_path):
    original = SyntheticDialogues(5, "test", seed=1, max_len=6)
    export_folder(original, str(tmp_path), "test", original.label_names)
    loaded = DialogueFolder(str(tmp_path), "test")
    assert loaded.label_names == original.label_names
    for a, b in zip(original, loaded):
        assert a.dialogue_id == b.dialogue_id
        assert torch.equal(a["utterance"].y, b["utterance"].y)
        assert torch.equal(a["utterance"].speaker, b["utterance"].speaker)
        for m in original.modalities:
            assert torch.equal(a["utterance"][f"x_{m}"], b["utterance"][f"x_{m}"])


@pytest.mark.parametrize("edit,message", [
    (lambda p: write(p / "train.csv", "dialogue,speaker\nd1,A\n"), r"train.csv: missing column\(s\) label"),
    (lambda p: write(p / "train.csv", "dialogue,speaker,label\nd1,A,joy\nd1,B,sad\nd1,A,joy\nd2,A,joy\nd2,B,joy\n")
     or write(p / "labels.txt", "joy\nanger\n"), r"train.csv, line 3: unknown label 'sad'"),
    (lambda p: np.save(p / "train.text.npy", np.zeros((4, 2), dtype=np.float32)),
     r"train.text.npy: 4 feature rows but the table has 5 rows"),
    (lambda p: np.save(p / "train.text.npy", np.array([[0, 0]] * 3 + [[np.nan, 0]] * 2, dtype=np.float32)),
     r"train.text.npy: the row of .*train.csv, line 5 \(dialogue 'd2'\) has a non-finite value"),
    (lambda p: np.save(p / "train.text.npy", np.zeros((5, 2), dtype=np.int32)), "float16/float32"),
    (lambda p: write(p / "train.csv", "dialogue,speaker,label\nd1,A,joy\n,B,joy\nd1,A,joy\nd2,A,joy\nd2,B,joy\n"),
     r"line 3: empty dialogue or speaker"),
    (lambda p: write(p / "train.csv", "dialogue,speaker,label\nd1,A,joy\nd1,B,joy\nd1,A,joy\nd2,A,joy\nd2,B,9\n")
     or write(p / "labels.txt", "joy\nanger\n"),
     r"train.csv: dialogue 'd2', utterance 1: label 9 outside"),
])
def test_bad_folder_is_rejected_and_leaves_no_cache(folder, edit, message):
    edit(folder)
    with pytest.raises(DialogueValidationError, match=message):
        DialogueFolder(str(folder), "train")
    processed = folder / "processed"
    assert not processed.exists() or not [f for f in os.listdir(processed) if f.startswith("train")]


def test_missing_folder_and_csv(tmp_path):
    with pytest.raises(DialogueValidationError, match="no such folder"):
        DialogueFolder(str(tmp_path / "nope"), "train")
    with pytest.raises(DialogueValidationError, match="no train.csv"):
        DialogueFolder(str(tmp_path), "train")


def test_interrupted_cache_write_keeps_nothing_half_written(folder, monkeypatch):
    import dialoggraph.datasets.base as base

    def explode(obj, f):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(base.torch, "save", explode)
    with pytest.raises(KeyboardInterrupt):
        DialogueFolder(str(folder), "test")
    monkeypatch.undo()
    leftovers = os.listdir(folder / "processed")
    assert not [f for f in leftovers if f.endswith(".pt") and f.startswith("test")]
    assert not [f for f in leftovers if f.startswith(".tmp-")]
    assert len(DialogueFolder(str(folder), "test")) == 1  # and a later run processes cleanly


def _folder(tmp_path, csv, n=None, text=None):
    (tmp_path / "train.csv").write_text(csv)
    rows = csv.count("\n") - 1 if n is None else n
    np.save(tmp_path / "train.text.npy", np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
            if text is None else text)
    return tmp_path


def test_a_reused_dialogue_id_is_refused_not_merged(tmp_path):
    root = _folder(tmp_path, "dialogue,speaker,label\na,A,joy\na,B,sad\nb,A,joy\na,A,sad\n")
    with pytest.raises(DialogueValidationError, match=r"train.csv, line 5 \(dialogue 'a'\): dialogue 'a' "
                                                      r"reappears after dialogue 'b'"):
        DialogueFolder(str(root), "train")


def test_utterance_id_orders_the_rows_of_each_dialogue(tmp_path):
    root = _folder(tmp_path, "dialogue,speaker,label,utterance_id\na,A,joy,2\na,B,sad,0\nb,A,joy,0\na,A,sad,1\n"
                             "c,A,joy,0\nc,B,joy,1\nd,A,sad,0\ne,A,joy,0\nf,B,sad,0\ng,A,joy,0\nh,A,sad,0\n")
    every = {d.dialogue_id: d for split in ("train", "dev") for d in DialogueFolder(str(root), split)}
    a = every["a"]["utterance"]
    assert a.x_text[:, 0].tolist() == [2.0, 6.0, 0.0]        # CSV rows 1, 3, 0 by utterance_id 0, 1, 2
    assert a.y.tolist() == [1, 1, 0]                          # sad, sad, joy
    (tmp_path / "train.csv").write_text("dialogue,speaker,label,utterance_id\na,A,joy,0\na,B,sad,0\n")
    np.save(tmp_path / "train.text.npy", np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(DialogueValidationError, match="utterance_id 0 appears twice"):
        DialogueFolder(str(root), "train", force_reload=True)


def test_labels_differing_by_case_or_spaces_are_refused_and_nan_rows_name_the_line(tmp_path):
    root = _folder(tmp_path, 'dialogue,speaker,label\na,A,joy\na,B,"Joy "\nb,A,sad\nb,B,sad\n')
    with pytest.raises(DialogueValidationError, match=r"train.csv: labels 'Joy' \(1\) and 'joy' \(1\) differ only "
                                                      r"by case or spaces; .* list each spelling in labels.txt"):
        DialogueFolder(str(root), "train")
    text = np.zeros((4, 2), dtype=np.float32)
    text[2, 1] = np.nan
    (tmp_path / "labels.txt").write_text("joy\nsad\nJoy\n")
    np.save(tmp_path / "train.text.npy", text)
    with pytest.raises(DialogueValidationError, match=r"train.text.npy: the row of .*train.csv, line 4 "
                                                      r"\(dialogue 'b'\) has a non-finite value"):
        DialogueFolder(str(root), "train", force_reload=True)
