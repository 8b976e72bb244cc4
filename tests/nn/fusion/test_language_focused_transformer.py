import pytest
import torch

from dialoggraph.nn.fusion import LanguageFocusedTransformer

BATCH = torch.tensor([0, 0, 0, 1, 1, 2])


def test_atmosphere_reaches_every_utterance_of_its_dialogue_only():
    torch.manual_seed(0)
    lft = LanguageFocusedTransformer(8, ("text", "audio", "visual"), heads=2, dropout=0.0).eval()
    x = {m: torch.randn(6, 8) for m in ("text", "audio", "visual")}
    out, t = lft(x, BATCH)
    assert t.shape == (3, 8) and all(v.shape == (6, 8) for v in out.values())
    # every modality of a dialogue receives that dialogue's atmosphere vector
    for m in out:
        assert torch.allclose(out[m] - x[m], t[BATCH], atol=1e-6)
    # changing one utterance of dialogue 1 moves dialogue 1's atmosphere (so all its utterances), nothing else
    changed = dict(x, audio=x["audio"].clone())
    changed["audio"][3] += 4
    out2, t2 = lft(changed, BATCH)
    assert not torch.allclose(t2[1], t[1]) and torch.allclose(t2[[0, 2]], t[[0, 2]], atol=1e-6)
    assert torch.allclose(out2["text"][4], x["text"][4] + t2[1], atol=1e-6)


def test_language_only_and_single_utterance():
    lft = LanguageFocusedTransformer(8, ("text",), heads=2).eval()
    out, t = lft({"text": torch.randn(1, 8)}, None)
    assert out["text"].shape == (1, 8) and t.shape == (1, 8)
    with pytest.raises(ValueError, match="dominant"):
        LanguageFocusedTransformer(8, ("audio",))


def test_without_atmosphere_the_language_features_become_x_m():
    torch.manual_seed(1)
    lft = LanguageFocusedTransformer(8, ("text", "audio", "visual"), heads=2, dropout=0.0, atmosphere=False).eval()
    x = {m: torch.randn(6, 8) for m in ("text", "audio", "visual")}
    out, t = lft(x, BATCH)
    assert t is None and not hasattr(lft, "atmosphere_token")
    expected = x["text"] + lft.language(x["text"], x["text"], BATCH)                        # eqs. 7-8
    for m in ("audio", "visual"):
        expected = expected + lft.guided[m](x["text"], x[m], BATCH, residual=x[m])          # eq. 6
    assert torch.allclose(out["text"], expected, atol=1e-6)
    assert torch.equal(out["audio"], x["audio"]) and torch.equal(out["visual"], x["visual"])
