"""MDGET-MER's gated blocks against references written from the paper's equations
(eqs. 1-5, 6-22, 23-30), one dialogue at a time in float64; forward and every gradient."""
import pytest
import torch

from references import (assert_modalities_match_reference, assert_same_forward_and_gradients, attention, bigru,
                        gelu, layer_norm, linear, per_dialogue, randomise, sigmoid)
from dialoggraph.nn.fusion import GatedClassifier, GatedCrossModalEncoder, GatedModalityFusion
from dialoggraph.nn.seq import GatedUnimodalEncoder

BATCH = torch.tensor([0, 0, 0, 0, 1, 2, 2])


def feed_forward(x, ff):
    """Eq. 5 in eval mode: FC(GELU(FC(X)))."""
    return linear(gelu(linear(x, ff[0])), ff[3])


def gue_reference(gue, x):
    """Eqs. 1-4 for one dialogue."""
    context = bigru(x, gue.gru)
    g1 = sigmoid(linear(torch.cat([x, context], -1), gue.gate1))                       # eq. 1
    x_rr = layer_norm(g1 * x + (1 - g1) * context, gue.norm1)                           # eq. 2
    ff = feed_forward(x_rr, gue.ff)
    g2 = sigmoid(linear(torch.cat([x, x_rr, ff], -1), gue.gate2))                      # eq. 3
    return layer_norm(g2 * x + (1 - g2) * (x_rr + ff), gue.norm2)                       # eq. 4


def test_gated_unimodal_encoder_equals_eqs_1_to_5():
    gue = randomise(GatedUnimodalEncoder(6, dropout=0.0)).double().eval()
    x = torch.randn(7, 6, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out = gue(x, BATCH)
    ref = torch.cat([gue_reference(gue, x_ref[idx]) for idx in per_dialogue(BATCH)])
    assert_same_forward_and_gradients(gue, [x], [x_ref], out, ref)


def acme_reference(acme, features):
    """Eqs. 6-22 for one dialogue with text, audio and visual (without text: no cross-modal step)."""
    sr = {m: layer_norm(x + attention(x, x, acme.self_attention[m].attention), acme.self_norm[m])
          for m, x in features.items()}                                                # eqs. 6-7
    if "text" not in features:
        cr = {m: layer_norm(features[m] + sr[m], acme.cross_norm[m]) for m in features}
        return {m: layer_norm(features[m] + x_cr + feed_forward(sigmoid(linear(x_cr, acme.feature_gate[m])) * x_cr,
                                                                  acme.ff[m]), acme.out_norm[m])
                for m, x_cr in cr.items()}
    t = sr["text"]
    gathered = []
    for m in ("audio", "visual"):                                                       # eqs. 8-11
        g = sigmoid(linear(torch.cat([t, sr[m]], -1), acme.gate_text_from[m]))
        gathered.append(g * attention(t, sr[m], acme.text_from[m].attention))
    x_c = gelu(linear(torch.cat(gathered, -1), acme.text_fc))                           # eq. 12
    cr = {"text": layer_norm(features["text"] + t + x_c, acme.cross_norm["text"])}      # eq. 13
    for m in ("audio", "visual"):                                                       # eqs. 14-19
        g = sigmoid(linear(torch.cat([sr[m], t], -1), acme.gate_from_text[m]))
        cr[m] = layer_norm(features[m] + sr[m] + g * attention(sr[m], t, acme.from_text[m].attention),
                           acme.cross_norm[m])
    out = {}
    for m, x_cr in cr.items():                                                          # eqs. 20-22
        g = sigmoid(linear(x_cr, acme.feature_gate[m]))
        out[m] = layer_norm(features[m] + x_cr + feed_forward(g * x_cr, acme.ff[m]), acme.out_norm[m])
    return out


@pytest.mark.parametrize("modalities", [("text", "audio", "visual"), ("audio", "visual")])
def test_gated_cross_modal_encoder_equals_eqs_6_to_22(modalities):
    acme = randomise(GatedCrossModalEncoder(4, modalities, heads=2, dropout=0.0), seed=1).double().eval()
    assert_modalities_match_reference(acme, lambda x: acme(x, BATCH), lambda x: acme_reference(acme, x),
                                      modalities, BATCH, 4)


def test_gated_fusion_and_classifier_equal_eqs_23_to_29():
    torch.manual_seed(0)
    fusion = randomise(GatedModalityFusion(3, 3), seed=2).double()
    classifier = randomise(GatedClassifier(12, 5, 4, dropout=0.0), seed=3).double().eval()
    h = [torch.randn(6, 3, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    h_ref = [t.detach().clone().requires_grad_() for t in h]
    fused, weights = fusion(h)
    logits = classifier(fused)
    rows = []
    for i in range(6):
        g = sigmoid(linear(torch.cat([t[i] for t in h_ref]), fusion.gate))             # eq. 23
        gate_sum = sum(g[k] * h_ref[k][i] for k in range(3))                            # eq. 24
        hi = torch.cat([t[i] for t in h_ref] + [gate_sum])                              # eq. 25
        gf = sigmoid(linear(hi, classifier.gate))                                       # eqs. 26-27
        rows.append(linear(torch.relu(linear(gf * hi, classifier.hidden)), classifier.out))   # eqs. 28-29
    ref = torch.stack(rows)
    assert weights.shape == (6, 3)
    assert_same_forward_and_gradients(classifier, h, h_ref, logits, ref)
    assert_same_forward_and_gradients(fusion, h, h_ref, logits, ref)


@pytest.mark.parametrize("gates", [False])
def test_ablations_are_the_even_mix_and_ungated_sum(gates):
    gue = randomise(GatedUnimodalEncoder(4, dropout=0.0, gates=gates)).double().eval()
    x = torch.randn(3, 4, dtype=torch.float64)
    context = bigru(x, gue.gru)
    x_rr = layer_norm(0.5 * x + 0.5 * context, gue.norm1)
    ff = feed_forward(x_rr, gue.ff)
    expected = layer_norm(0.5 * x + 0.5 * (x_rr + ff), gue.norm2)
    assert torch.allclose(gue(x, None), expected, atol=1e-10)
    fusion = GatedModalityFusion(2, 2, gates=gates).double()
    a, b = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    assert torch.allclose(fusion([a, b])[0], torch.cat([a, b, a + b], -1))
