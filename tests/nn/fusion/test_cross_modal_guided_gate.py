import torch

from dialoggraph.nn.fusion import CrossModalGuidedGate, GuidedBimodalFusion


def test_guided_gate_in_unit_interval_and_single_modality_passes():
    torch.manual_seed(0)
    gate = CrossModalGuidedGate(6, ("text", "audio", "visual"))
    x = {m: torch.randn(5, 6) for m in ("text", "audio", "visual")}
    out, gates = gate(x)
    assert set(out) == set(x) and all(bool(((g >= 0) & (g <= 1)).all()) for g in gates.values())
    # the gate of text reads the other modalities: changing audio changes text's output
    changed = dict(x, audio=x["audio"] + 3)
    assert not torch.allclose(gate(changed)[0]["text"], out["text"])
    single, none = CrossModalGuidedGate(6, ("text",))({"text": x["text"]})
    assert none == {} and single["text"].shape == (5, 6)


def test_bimodal_fusion_reads_the_third_modality():
    torch.manual_seed(1)
    fusion = GuidedBimodalFusion(6, guided=True)
    a, b, c = torch.randn(5, 6), torch.randn(5, 6), torch.randn(5, 6)
    out, gate = fusion(a, b, c)
    assert out.shape == (5, 6) and bool(((gate >= 0) & (gate <= 1)).all())
    assert not torch.allclose(fusion(a, b, c + 2)[0], out)
    assert GuidedBimodalFusion(6, guided=False)(a, b)[0].shape == (5, 6)
