"""The remaining gates against references written from their formulas, float64, utterance
by utterance: MDGET-MER's gated emotion transfer (eqs. 34-39), CMGFE's cross-modal guided
gate and guided bimodal fusion (our reading of its abstract), AMB-DSGDN's feature gate."""
import pytest
import torch

from references import (assert_modalities_match_reference, assert_same_forward_and_gradients, gelu, layer_norm,
                        linear, randomise, sigmoid)
from dialoggraph.nn.fusion import CrossModalGuidedGate, FeatureGate, GuidedBimodalFusion
from dialoggraph.nn.losses import GatedEmotionTransfer


@pytest.mark.parametrize("gate", [True, False])
def test_gated_emotion_transfer_equals_eqs_34_to_39(gate):
    module = randomise(GatedEmotionTransfer(3, hidden=4, dropout=0.5, threshold=0.5, gate=gate), std=0.6).double().eval()
    g = torch.Generator().manual_seed(7)
    h = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    h_prime = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    pairs = torch.tensor([[0, 1, 2, 3, 4, 0, 5], [1, 2, 3, 4, 5, 2, 4]])             # source j -> target i
    y = torch.tensor([2, 2, 0, -1, 1, 0])
    loss, logits, gates = module(h, h_prime, pairs, y)
    h_ref, hp_ref = h.detach().clone().requires_grad_(), h_prime.detach().clone().requires_grad_()
    ref_logits, ref_gates, terms = [], [], []
    for j, i in pairs.t().tolist():
        joint = torch.cat([h_ref[i], hp_ref[j]])                                       # [h_i; h'_j]
        g_ij = sigmoid(linear(joint, module.gate))[0] if gate else torch.tensor(1.0, dtype=torch.float64)
        z = linear(torch.relu(linear(g_ij * joint, module.hidden)), module.out)         # eqs. 34-37 (eval)
        ref_logits.append(z)
        ref_gates.append(g_ij)
        if y[i] >= 0 and y[j] >= 0 and (not gate or g_ij > 0.5):                       # eq. 39
            label = int(y[i] != y[j])
            terms.append(torch.logsumexp(z, 0) - z[label])
    ref_loss = sum(terms) / len(terms)
    assert len(terms) >= 2
    assert torch.allclose(torch.stack(ref_gates), gates, atol=1e-12)
    assert_same_forward_and_gradients(module, [h, h_prime], [h_ref, hp_ref], logits, torch.stack(ref_logits))
    assert abs(loss.item() - ref_loss.item()) < 1e-10
    assert GatedEmotionTransfer(3).gate.out_features == 1 and GatedEmotionTransfer(3).hidden.out_features == 3


def test_cross_modal_guided_gate_equals_its_formula():
    modalities = ("text", "audio", "visual")
    module = randomise(CrossModalGuidedGate(3, modalities), seed=8).double()

    def reference(x):
        out = {}
        for m in modalities:
            guide = sum(x[k] for k in modalities if k != m) / 2
            g = sigmoid(linear(torch.cat([x[m], guide], -1), module.gate[m]))
            out[m] = layer_norm(x[m] + g * x[m], module.norm[m])
        return out

    batch = torch.zeros(5, dtype=torch.long)
    assert_modalities_match_reference(module, lambda x: module(x)[0], reference, modalities, batch, 3)
    alone = {"text": torch.randn(4, 3, dtype=torch.float64)}
    assert torch.allclose(module(alone)[0]["text"], layer_norm(alone["text"], module.norm["text"]), atol=1e-12)


@pytest.mark.parametrize("guided", [True, False])
def test_guided_bimodal_fusion_equals_its_formula(guided):
    module = randomise(GuidedBimodalFusion(3, guided), seed=9).double()
    a, b, c = (torch.randn(4, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    refs = [t.detach().clone().requires_grad_() for t in (a, b, c)]
    out, _ = module(a, b, c if guided else None)
    pair = torch.cat(refs[:2], -1)
    gate = sigmoid(linear(torch.cat([pair, refs[2]], -1) if guided else pair, module.gate))
    ref = layer_norm(gate * gelu(linear(pair, module.fuse)), module.norm)
    inputs = [a, b, c] if guided else [a, b]
    assert_same_forward_and_gradients(module, inputs, refs[:len(inputs)], out, ref)


def test_feature_gate_scales_each_feature_by_its_sigmoid():
    module = randomise(FeatureGate(3), seed=10).double()
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    rows = [torch.stack([x_ref[i, d] * sigmoid(linear(x_ref[i], module.linear)[d]) for d in range(3)])
            for i in range(4)]
    assert_same_forward_and_gradients(module, [x], [x_ref], module(x), torch.stack(rows))
