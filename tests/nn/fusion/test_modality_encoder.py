"""MFCRE's modality encoder against a float64 port of the authors' released ``textf`` convolution
and intra-modal ``TransformerEncoder(layers=2)`` (github rhoqwomda/MFCRE, ``Model/model.py``), one
dialogue at a time: no LayerNorm before the first layer's attention, LayerNorm of the input from
the second layer on (and the residual from the normalised input), a pre-LN feed-forward with the
exact GELU, LayerNorm eps 1e-6, the position encoding adding nothing."""
import pytest
import torch

from references import assert_same_forward_and_gradients, attention, gelu, layer_norm, linear, randomise
from dialoggraph.nn.fusion import ModalityEncoder

BATCH = torch.tensor([0, 0, 0, 0, 1, 1, 2])


def released_encoder(encoder, x):
    """Conv1d(kernel 1, no bias), then TransformerEncoder.forward(x, x, mask) in eval mode."""
    h = x @ encoder.conv.weight.t()
    for i, attn in enumerate(encoder.attention):
        if i != 0:                                                     # the `iter != 0` rule
            h = layer_norm(h, encoder.norm[i - 1])
        out = attention(h, h, attn.attention) + h                      # dropout(context) + inputs_b
        inter = gelu(linear(layer_norm(out, encoder.ffn_norm[i]), encoder.ffn_in[i]))
        h = linear(inter, encoder.ffn_out[i]) + out                    # PositionwiseFeedForward
    return h


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_modality_encoder_is_the_released_transformer_encoder(layers):
    encoder = randomise(ModalityEncoder(5, 8, layers=layers, heads=2, ffn_channels=6), std=0.4, seed=layers)
    encoder = encoder.double().eval()
    x = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out = encoder(x, BATCH)
    ref = torch.cat([released_encoder(encoder, x_ref[BATCH == d]) for d in range(3)])
    assert_same_forward_and_gradients(encoder, [x], [x_ref], out, ref)
    assert len(encoder.norm) == layers - 1                              # the first layer has no pre-attention LN


def test_defaults_and_isolation():
    torch.manual_seed(1)
    encoder = ModalityEncoder(5, 8, heads=2).eval()
    assert encoder.ffn_in[0].out_features == 8 and len(encoder.attention) == 2     # d_ff = model_dim, 2 layers
    x = torch.randn(7, 5)
    out = encoder(x, BATCH)
    changed = x.clone()
    changed[5] += 3.0
    inside = BATCH == 1
    out2 = encoder(changed, BATCH)
    assert torch.allclose(out[~inside], out2[~inside], atol=1e-6) and not torch.allclose(out[inside], out2[inside])
    for d in range(3):                                                  # each dialogue alone: the same
        assert torch.allclose(encoder(x[BATCH == d], None), out[BATCH == d], atol=1e-5)
