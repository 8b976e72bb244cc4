import pytest
import torch

from dialoggraph.nn.fusion import GatedClassifier, GatedCrossModalEncoder, GatedModalityFusion

BATCH = torch.tensor([0, 0, 0, 1, 1, 2])


def feats(modalities, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(6, 8, generator=g) for m in modalities}


@pytest.mark.parametrize("modalities", [("text",), ("audio",), ("text", "visual"), ("audio", "visual"),
                                        ("text", "audio", "visual")])
def test_every_subset_gates_in_unit_interval_and_isolation(modalities):
    torch.manual_seed(1)
    acme = GatedCrossModalEncoder(8, modalities, heads=2, dropout=0.0).eval()
    x = feats(modalities)
    out, gates = acme(x, BATCH, return_gates=True)
    assert set(out) == set(modalities) and all(v.shape == (6, 8) for v in out.values())
    assert all(bool(((g >= 0) & (g <= 1)).all()) for g in gates.values())
    if "text" in modalities and len(modalities) > 1:
        assert any(k.startswith("text<-") for k in gates)
    changed = {m: v.clone() for m, v in x.items()}
    for v in changed.values():
        v[BATCH == 1] += 4
    after = acme(changed, BATCH)
    for m in modalities:
        assert torch.allclose(after[m][BATCH != 1], out[m][BATCH != 1], atol=1e-5)


def test_disabled_gates_are_ones():
    acme = GatedCrossModalEncoder(8, ("text", "audio"), heads=2, cross_gates=False, feature_gate=False).eval()
    _, gates = acme(feats(("text", "audio")), BATCH, return_gates=True)
    assert all(torch.equal(g, torch.ones_like(g)) for g in gates.values())


def test_fusion_and_classifier():
    fusion = GatedModalityFusion(8, 3)
    h, weights = fusion(list(feats(("a", "b", "c")).values()))
    assert h.shape == (6, 32) and weights.shape == (6, 3) and bool(((weights > 0) & (weights < 1)).all())
    parts = list(feats(("a", "b", "c")).values())
    assert torch.allclose(h[:, -8:], sum(w.unsqueeze(-1) * p for w, p in zip(weights.t(), parts)), atol=1e-6)
    plain = GatedModalityFusion(8, 3, gates=False)
    assert torch.equal(plain(parts)[1], torch.ones(6, 3))
    assert GatedClassifier(32, 16, 7)(h).shape == (6, 7)
