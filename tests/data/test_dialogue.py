import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from dialoggraph.data import DialogueValidationError, from_padded, make_dialogue, to_padded

LABELS = ["neutral", "joy", "anger"]


def test_schema_fields_and_speaker_mapping():
    data = make_dialogue(["Ann", "Bob", "Ann", "Cy"], ["joy", "neutral", -1, "anger"], "d1",
                         labels=LABELS, text=np.ones((4, 3), dtype=np.float16),
                         audio=torch.zeros(4, 2, dtype=torch.float64))
    store = data["utterance"]
    assert store.speaker.tolist() == [0, 1, 0, 2]
    assert data.speaker_names == ["Ann", "Bob", "Cy"]
    assert store.y.tolist() == [1, 0, -1, 2]
    assert store.speaker_global.tolist() == [-1, -1, -1, -1]
    assert store.x_text.dtype == torch.float32 and store.x_text.shape == (4, 3)
    assert store.x_audio.dtype == torch.float32
    assert data.modalities == ("text", "audio")
    assert data.dialogue_id == "d1"
    assert store.num_nodes == 4


def test_integer_speakers_and_x_prefix():
    data = make_dialogue(torch.tensor([7, 7, 3]), [0, 1, 1], x_text=torch.randn(3, 2),
                         speaker_global=[7, 7, 3])
    assert data["utterance"].speaker.tolist() == [0, 0, 1]
    assert data.speaker_names == ["7", "3"]
    assert data["utterance"].speaker_global.tolist() == [7, 7, 3]


def test_batching_keeps_dialogues_apart():
    a = make_dialogue(["x", "y"], [0, 1], "a", text=torch.randn(2, 4))
    b = make_dialogue(["z"], [2], "b", text=torch.randn(1, 4))
    batch = next(iter(DataLoader([a, b], batch_size=2)))
    assert batch["utterance"].batch.tolist() == [0, 0, 1]
    assert batch.dialogue_id == ["a", "b"]
    padded, mask = to_padded(batch["utterance"].x_text, batch["utterance"].batch)
    assert padded.shape == (2, 2, 4) and mask.tolist() == [[True, True], [True, False]]
    assert torch.equal(from_padded(padded, mask), batch["utterance"].x_text)


@pytest.mark.parametrize("kwargs,message", [
    (dict(speaker=[], text=np.zeros((0, 2), dtype=np.float32)), "empty dialogue"),
    (dict(speaker=["a", "b"], y=[0], text=np.zeros((2, 2), dtype=np.float32)), "2 speakers but 1 labels"),
    (dict(speaker=["a", "b"], text=np.zeros((3, 2), dtype=np.float32)), "3 rows in x_text"),
    (dict(speaker=["a", "b"], text=np.array([[0, np.nan], [0, 0]], dtype=np.float32)),
     "utterance 0: non-finite"),
    (dict(speaker=["a", "b"], text=np.array([[0, 0], [np.inf, 0]], dtype=np.float32)),
     "utterance 1: non-finite"),
    (dict(speaker=["a", "b"], text=np.zeros((2, 2), dtype=np.int64)), "floating point"),
    (dict(speaker=["a", "b"], text=np.zeros((2, 2, 2), dtype=np.float32)), r"\[utterances, features\]"),
    (dict(speaker=["a", "b"], y=[0, 3], labels=LABELS, text=np.zeros((2, 2), dtype=np.float32)),
     "label 3 outside"),
    (dict(speaker=["a", "b"], y=[0, "sad"], labels=LABELS, text=np.zeros((2, 2), dtype=np.float32)),
     "unknown label 'sad'"),
    (dict(speaker=["a", "b"], y=[0, "joy"], text=np.zeros((2, 2), dtype=np.float32)), "no label set"),
    (dict(speaker=["a", "b"], y=[0, -2], text=np.zeros((2, 2), dtype=np.float32)), "outside"),
    (dict(speaker=torch.tensor([0.0, 1.0]), text=np.zeros((2, 2), dtype=np.float32)), "integer"),
    (dict(speaker=["a", "b"]), "no modality"),
])
def test_bad_input_names_dialogue_and_field(kwargs, message):
    with pytest.raises(DialogueValidationError, match=message) as info:
        make_dialogue(dialogue_id="dlg-42", **kwargs)
    assert "dlg-42" in str(info.value)
    assert isinstance(info.value, ValueError)
