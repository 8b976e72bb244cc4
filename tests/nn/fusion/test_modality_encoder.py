import math

import pytest
import torch

from dialoggraph.nn.fusion import ModalityEncoder
from dialoggraph.nn.seq import sinusoidal_positions

BATCH = torch.tensor([0, 0, 0, 0, 1, 1, 2])
DIMS = {"text": 5, "audio": 3, "visual": 4}


def test_embedding_is_a_convolution_within_each_dialogue_plus_positions():
    torch.manual_seed(0)
    encoder = ModalityEncoder(DIMS, 8, heads=2, dropout=0.0, kernel_size=3).double().eval()
    x = torch.randn(7, 5, dtype=torch.float64)
    h = encoder.embed(x, "text", BATCH)
    W = encoder.conv["text"].weight                                   # [8, 5, 3]: taps for i-1, i, i+1
    for d in range(3):
        xs = x[BATCH == d]
        n = xs.size(0)
        pe = sinusoidal_positions(n, 8).double()
        for i in range(n):
            expected = sum(W[:, :, k + 1] @ xs[i + k] for k in (-1, 0, 1) if 0 <= i + k < n)
            assert torch.allclose(h[BATCH == d][i], math.sqrt(8) * expected + pe[i], atol=1e-10)


def test_intra_and_inter_modal_reading_and_isolation():
    torch.manual_seed(1)
    encoder = ModalityEncoder(DIMS, 8, layers=2, heads=2, dropout=0.0).eval()
    x = {m: torch.randn(7, d) for m, d in DIMS.items()}
    out = encoder(x, BATCH)
    assert all(v.shape == (7, 8) for v in out.values())
    changed = dict(x, audio=x["audio"].clone())
    changed["audio"][5] += 3.0                                        # dialogue 1's audio
    out2 = encoder(changed, BATCH)
    inside = BATCH == 1
    for m in DIMS:                                                    # eq. 5: text and visual read audio
        assert not torch.allclose(out[m][inside], out2[m][inside])
        assert torch.allclose(out[m][~inside], out2[m][~inside], atol=1e-6)
    # each dialogue alone gives the same result (padding never matters)
    for d in range(3):
        alone = encoder({m: v[BATCH == d] for m, v in x.items()}, None)
        assert all(torch.allclose(alone[m], out[m][BATCH == d], atol=1e-5) for m in DIMS)


def test_single_modality_and_bad_kernel():
    encoder = ModalityEncoder({"text": 5}, 8, heads=2).eval()
    assert encoder({"text": torch.randn(1, 5)}, None)["text"].shape == (1, 8)
    with pytest.raises(ValueError, match="odd"):
        ModalityEncoder(DIMS, 8, kernel_size=2)
