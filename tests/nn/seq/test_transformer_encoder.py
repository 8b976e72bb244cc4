import math

import torch

from dialoggraph.nn.seq import DialogueTransformerEncoder, sinusoidal_positions


def test_sinusoidal_positions_eq_2():
    table = sinusoidal_positions(5, 6)
    assert table.shape == (5, 6)
    assert abs(table[3, 2].item() - math.sin(3 / 10000 ** (2 / 6))) < 1e-6
    assert abs(table[3, 3].item() - math.cos(3 / 10000 ** (2 / 6))) < 1e-6
    assert torch.equal(table[0, 1::2], torch.ones(3))


def test_dialogues_do_not_see_each_other_and_singletons_work():
    torch.manual_seed(0)
    encoder = DialogueTransformerEncoder(16, heads=4, num_speakers=3).eval()
    batch = torch.tensor([0, 0, 0, 1, 2, 2])
    speaker = torch.tensor([0, 1, 5, 0, 1, 0])         # 5 > num_speakers - 1: shares the last embedding
    x = torch.randn(6, 16)
    out, weights = encoder(x, batch, speaker, return_attention_weights=True)
    assert out.shape == (6, 16) and weights.shape == (3, 3, 3)
    assert torch.allclose(weights[1, 0, 1:], torch.zeros(2))   # padding gets no attention
    changed = x.clone()
    changed[3] += 10
    out2 = encoder(changed, batch, speaker)
    others = batch != 1
    assert torch.allclose(out[others], out2[others], atol=1e-6)
