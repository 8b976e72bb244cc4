import csv
import os

import numpy as np
import pytest
import torch

from dialoggraph.data import DialogueValidationError
from dialoggraph.datasets import MELD
from dialoggraph.datasets.meld import EMOTIONS
from dialoggraph.data import INTER, INTRA
from dialoggraph.transforms import SpeakerWindowGraph

MINILM = "{split}_sent_emo.minilm.npy"


def test_official_splits_with_frozen_embeddings(meld_root, tmp_path):
    sizes = {}
    for split in ("train", "dev", "test"):
        ds = MELD(meld_root, split, text_features=MINILM, cache_dir=str(tmp_path),
                  pre_transform=SpeakerWindowGraph())
        sizes[split] = int(ds._data["utterance"].num_nodes)
        assert ds.label_names == EMOTIONS
        assert INTRA in ds[0].edge_types and INTER in ds[0].edge_types
    assert sizes == {"train": 9989, "dev": 1109, "test": 2610}


def test_rows_align_with_csv_and_order(meld_root, tmp_path):
    ds = MELD(meld_root, "dev", text_features=MINILM, timing=True, cache_dir=str(tmp_path))
    with open(os.path.join(meld_root, "dev_sent_emo.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    embeddings = np.load(os.path.join(meld_root, "dev_sent_emo.minilm.npy"))
    first = [i for i, r in enumerate(rows) if r["Dialogue_ID"] == "0"]
    first.sort(key=lambda i: int(rows[i]["Utterance_ID"]))
    d0 = next(d for d in ds if d.dialogue_id == "dev_dia0")
    assert torch.allclose(d0["utterance"].x_text, torch.from_numpy(embeddings[first].astype(np.float32)))
    assert d0["utterance"].y.tolist() == [EMOTIONS.index(rows[i]["Emotion"]) for i in first]
    assert d0["utterance"].x_timing.shape == (len(first), 3)
    assert ds.modalities == ("text", "timing")
    assert ds.meta["speaker_vocab"][0] == "other"
    # Main characters get their own global id; a one-off speaker is "other" (0).
    assert "Chandler" in ds.meta["speaker_vocab"]


def test_tfidf_default_is_fitted_on_train(meld_root, tmp_path):
    dev = MELD(meld_root, "dev", text_dim=32, cache_dir=str(tmp_path))
    assert dev._data["utterance"].x_text.shape == (1109, 32)
    again = MELD(meld_root, "dev", text_dim=32, cache_dir=str(tmp_path), force_reload=True)
    assert torch.equal(dev._data["utterance"].x_text, again._data["utterance"].x_text)
    sentiment = MELD(meld_root, "dev", text_dim=32, target="sentiment", cache_dir=str(tmp_path))
    assert sentiment.label_names == ["neutral", "positive", "negative"]


def small_meld(meld_root, tmp_path, edit):
    for split in ("train", "dev"):
        with open(os.path.join(meld_root, f"{split}_sent_emo.csv"), encoding="utf-8") as f:
            lines = f.readlines()[:40]
        if split == "dev":
            lines = edit(lines)
        with open(tmp_path / f"{split}_sent_emo.csv", "w", encoding="utf-8") as f:
            f.writelines(lines)
    return str(tmp_path)


@pytest.mark.parametrize("edit,message", [
    (lambda lines: lines[:3] + [lines[3].replace(",neutral,neutral,", ",bored,neutral,")] + lines[4:],
     r"dev_sent_emo.csv, line 4: unknown emotion 'bored'"),
    (lambda lines: [lines[0].replace("Emotion", "Feeling")] + lines[1:], r"missing column\(s\) Emotion"),
    (lambda lines: lines + [lines[5]], r"duplicate utterance"),
])
def test_bad_meld_csv(meld_root, tmp_path, edit, message):
    root = small_meld(meld_root, tmp_path, edit)
    with pytest.raises(DialogueValidationError, match=message):
        MELD(root, "dev", text_dim=8)
    assert not [f for f in os.listdir(os.path.join(root, "processed"))
                if f.endswith(".pt") and f.startswith("dev")] if os.path.exists(os.path.join(root, "processed")) else True


def test_missing_feature_file_is_a_clear_error(meld_root, tmp_path):
    root = small_meld(meld_root, tmp_path, lambda lines: lines)
    with pytest.raises(DialogueValidationError, match="feature file not found"):
        MELD(root, "dev", text_features="{split}.missing.npy")
    np.save(tmp_path / "dev.short.npy", np.zeros((3, 4), dtype=np.float16))
    with pytest.raises(DialogueValidationError, match="dev.short.npy: 3 feature rows but the table has 39 rows"):
        MELD(root, "dev", text_features="{split}.short.npy")
