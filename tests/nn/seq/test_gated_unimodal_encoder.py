import torch

from dialoggraph.nn.seq import GatedUnimodalEncoder


def test_gates_shapes_and_isolation():
    torch.manual_seed(0)
    gue = GatedUnimodalEncoder(8, dropout=0.0).eval()
    batch = torch.tensor([0, 0, 0, 1, 2, 2])
    x = torch.randn(6, 8)
    out, (g1, g2) = gue(x, batch, return_gates=True)
    assert out.shape == (6, 8)
    for g in (g1, g2):
        assert g.shape == (6, 8) and bool(((g >= 0) & (g <= 1)).all())
    # a dialogue alone gives what it gives in the batch (padding never enters the GRU)
    alone = gue(x[:3], torch.zeros(3, dtype=torch.long))
    assert torch.allclose(alone, out[:3], atol=1e-6)
    changed = x.clone()
    changed[3] += 5
    assert torch.allclose(gue(changed, batch)[batch != 1], out[batch != 1], atol=1e-6)


def test_without_gates_mixes_evenly():
    gue = GatedUnimodalEncoder(4, dropout=0.0, gates=False).eval()
    _, (g1, g2) = gue(torch.randn(3, 4), None, return_gates=True)
    assert torch.equal(g1, torch.full((3, 4), 0.5)) and torch.equal(g2, torch.full((3, 4), 0.5))
