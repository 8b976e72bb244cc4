"""The sequence family's attention blocks against references written from their papers
(MFCRE sec. 3.4 / MultiEMO's MultiAttn; LFVD eqs. 4-9; AMB-DSGDN eqs. 2-5 in
tests/fidelity), one dialogue at a time in float64; forward and every gradient."""
import torch

from references import assert_modalities_match_reference, attention, layer_norm, linear, randomise
from dialoggraph.nn.fusion import LanguageFocusedTransformer, MultiAttn

BATCH = torch.tensor([0, 0, 0, 1, 2, 2, 2])
MODALITIES = ("text", "audio", "visual")


def relu_ffn(x, ffn):
    """W_2 ReLU(W_1 x) (eval mode)."""
    return linear(torch.relu(linear(x, ffn[0])), ffn[3])


def transformer_layer(query, key, residual, layer):
    """Transformer(Q, K, V): X_bar = LN(MHA(Q, K, K) + R), out = LN(FFN(X_bar) + X_bar)."""
    bar = layer_norm(attention(query, key, layer.attention.attention) + residual, layer.norm1)
    return layer_norm(relu_ffn(bar, layer.ffn) + bar, layer.norm2)


def multi_attn_reference(fusion, x):
    """Per target m with sources (a, b): h1 = LN(x_m + MHA(x_m, x_a)), h2 = LN(h1 + MHA(h1, x_b)),
    out = LN(h2 + FFN(h2)); each layer's output is the next query, the keys stay x_a, x_b."""
    out = {}
    for m in x:
        query = x[m]
        for layer in fusion.layers:
            unit = layer[m]
            h = query
            for stage, source in enumerate(fusion.sources[m]):
                attended = attention(h, x[source], unit.attention[stage].attention)
                h = layer_norm(h + attended, unit.attention_norm[stage])
            ffn = linear(torch.relu(linear(h, unit.ffn[0])), unit.ffn[2])                 # W_2 ReLU(W_1 h)
            query = layer_norm(h + ffn, unit.ffn_norm)
        out[m] = query
    return out


def test_multi_attn_equals_the_stacked_bidirectional_cross_attention():
    fusion = randomise(MultiAttn(4, MODALITIES, num_layers=2, heads=2, dropout=0.0), seed=4).double().eval()
    assert_modalities_match_reference(fusion, lambda x: fusion(x, BATCH), lambda x: multi_attn_reference(fusion, x),
                                      MODALITIES, BATCH, 4)


def lft_reference(lft, x):
    """LFVD eqs. 6-9 for one dialogue, text dominant."""
    x_l = x["text"]
    mixed = x_l + transformer_layer(x_l, x_l, x_l, lft.language)                      # eqs. 7-8
    for m in ("audio", "visual"):
        mixed = mixed + transformer_layer(x_l, x[m], x[m], lft.guided[m])              # eq. 6
    sequence = torch.cat([lft.atmosphere_token.unsqueeze(0), mixed])                   # eq. 9
    norm1, ffn, norm2 = lft.atmosphere_block
    bar = layer_norm(attention(sequence, sequence, lft.atmosphere) + sequence, norm1)
    t = layer_norm(relu_ffn(bar, ffn) + bar, norm2)[0]
    return {m: v + t for m, v in x.items()}


def test_language_focused_transformer_equals_eqs_6_to_9():
    lft = randomise(LanguageFocusedTransformer(4, MODALITIES, heads=2, dropout=0.0), seed=5).double().eval()
    assert lft({m: torch.randn(7, 4, dtype=torch.float64) for m in MODALITIES}, BATCH)[1].shape == (3, 4)
    assert_modalities_match_reference(lft, lambda x: lft(x, BATCH)[0], lambda x: lft_reference(lft, x),
                                      MODALITIES, BATCH, 4)
