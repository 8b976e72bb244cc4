"""DialogueAttention and the Transformer encoder's attention project the real utterances only;
they must equal torch.nn.MultiheadAttention run on the padded dialogues, forward and backward."""
import torch

from dialoggraph.data import to_padded
from dialoggraph.nn import DialogueAttention, DialogueTransformerEncoder
from dialoggraph.nn.seq import sinusoidal_positions

BATCH = torch.tensor([0, 0, 0, 0, 1, 2, 2])


def padded_mha(mha, query, key, batch):
    q, mask = to_padded(query, batch)
    k, _ = to_padded(key, batch)
    out, weights = mha(q, k, k, key_padding_mask=~mask)
    return out[mask], weights


def test_dialogue_attention_equals_multihead_attention_on_padded_dialogues():
    torch.manual_seed(0)
    layer = DialogueAttention(8, 2).double()
    for cross in (False, True):
        query = torch.randn(7, 8, dtype=torch.float64, requires_grad=True)
        key = torch.randn(7, 8, dtype=torch.float64, requires_grad=True) if cross else query
        out = layer(query, key, BATCH)
        ref, _ = padded_mha(layer.attention, query, key, BATCH)
        assert torch.allclose(out, ref, atol=1e-12)
        w = torch.randn_like(out)
        inputs = [query, key] if cross else [query]
        grads = torch.autograd.grad((out * w).sum(), inputs + list(layer.parameters()))
        ref_grads = torch.autograd.grad((ref * w).sum(), inputs + list(layer.parameters()))
        assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(grads, ref_grads))


def test_encoder_attention_weights_are_multihead_attentions():
    torch.manual_seed(1)
    encoder = DialogueTransformerEncoder(8, heads=2, num_speakers=3).double().eval()
    x, speaker = torch.randn(7, 8, dtype=torch.float64), torch.tensor([0, 1, 0, 2, 1, 0, 0])
    _, weights = encoder(x, BATCH, speaker, return_attention_weights=True)
    h, mask = to_padded(x + encoder.speaker(speaker), BATCH)
    h = h + sinusoidal_positions(h.size(1), 8).double()
    _, ref = encoder.attention(h, h, h, key_padding_mask=~mask)
    assert torch.allclose(weights[mask], ref[mask], atol=1e-12)      # real queries; padding rows are discarded
