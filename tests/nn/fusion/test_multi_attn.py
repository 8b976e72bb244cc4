import pytest
import torch

from dialoggraph.nn.fusion import MultiAttn

BATCH = torch.tensor([0, 0, 0, 1, 1, 2])


def test_three_stages_isolation_and_stacking():
    torch.manual_seed(0)
    fusion = MultiAttn(8, ("text", "audio", "visual"), num_layers=2, heads=2, dropout=0.0).eval()
    assert fusion.sources["visual"] == ("text", "audio") and len(fusion.layers) == 2
    x = {m: torch.randn(6, 8) for m in ("text", "audio", "visual")}
    out = fusion(x, BATCH)
    assert all(v.shape == (6, 8) for v in out.values())
    # visual's output depends on audio (stage 2) and text (stage 1) ...
    assert not torch.allclose(fusion(dict(x, audio=x["audio"] + 1), BATCH)["visual"], out["visual"])
    # ... but never on another dialogue
    changed = {m: v.clone() for m, v in x.items()}
    for v in changed.values():
        v[BATCH == 2] += 5
    after = fusion(changed, BATCH)
    for m in out:
        assert torch.allclose(after[m][BATCH != 2], out[m][BATCH != 2], atol=1e-5)


def test_subsets():
    two = MultiAttn(8, ("text", "visual"), num_layers=1, heads=2)
    assert two.sources == {"text": ("visual",), "visual": ("text",)}
    one = MultiAttn(8, ("audio",), num_layers=1, heads=2)
    assert one({"audio": torch.randn(6, 8)}, BATCH)["audio"].shape == (6, 8)
    with pytest.raises(ValueError):
        MultiAttn(8, ("smell",))


def test_training_details_are_multiemos():
    """MultiEMO's Model/MultiAttn.py: feed-forward 4d wide, no dropout on the attention weights,
    the feed-forward's output dropped inside it (``Feedforward``) and again before the residual
    sum (``AddNorm``)."""
    torch.manual_seed(0)
    fusion = MultiAttn(8, ("text", "audio"), num_layers=1, heads=2, dropout=0.5)
    unit = fusion.layers[0]["text"]
    assert unit.ffn[0].out_features == 32 and unit.ffn[2].in_features == 32
    h, source = torch.randn(6, 8), torch.randn(6, 8)
    attention = unit.attention[0]
    assert torch.equal(attention.train()(h, source, BATCH), attention.eval()(h, source, BATCH))
    dropped, kept = unit.ffn.train()(h), unit.ffn.eval()(h)
    zeros = dropped == 0
    assert 0.3 < zeros.float().mean() < 0.7
    assert torch.allclose(dropped[~zeros], 2 * kept[~zeros])
    narrow = MultiAttn(8, ("text", "audio"), num_layers=1, heads=2, ffn_channels=16, attention_dropout=0.1)
    assert narrow.layers[0]["text"].ffn[0].out_features == 16
