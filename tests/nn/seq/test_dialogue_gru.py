import pytest
import torch

from dialoggraph.nn.seq import DialogueGRU

BATCH = torch.tensor([0, 0, 0, 0, 1, 1, 2])


def test_a_dialogue_alone_equals_the_same_dialogue_in_a_batch():
    torch.manual_seed(0)
    gru = DialogueGRU(5, 8).eval()
    x = torch.randn(7, 5)
    out = gru(x, BATCH)
    assert out.shape == (7, 8)
    for d in range(3):
        assert torch.allclose(gru(x[BATCH == d], None), out[BATCH == d], atol=1e-6)
    # the backward half of the last utterance of dialogue 0 has seen only that utterance
    h = gru.gru.hidden_size
    alone = gru(x[3:4], None)
    assert torch.allclose(out[3, h:], alone[0, h:], atol=1e-6) and not torch.allclose(out[3, :h], alone[0, :h])


def test_unidirectional_and_odd_width():
    gru = DialogueGRU(5, 7, bidirectional=False).eval()
    x = torch.randn(7, 5)
    out = gru(x, BATCH)
    changed = x.clone()
    changed[2] += 1.0                         # a later utterance never reaches an earlier one
    assert torch.allclose(gru(changed, BATCH)[:2], out[:2], atol=1e-6) and out.shape == (7, 7)
    with pytest.raises(ValueError, match="even"):
        DialogueGRU(5, 7)
