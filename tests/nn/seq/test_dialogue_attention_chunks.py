"""The attention step: query chunks with activation checkpointing on long dialogues, and the
weights' dropout on CPU."""
import torch
import torch.nn.functional as F

import dialoggraph.nn.seq.dialogue_attention as module
from dialoggraph.nn import DialogueAttention


def chunked_inputs(monkeypatch, heads: int, length: int, padded: int, width: int):
    """float64 ``q, k, v`` of two dialogues, the second ``padded`` keys short, and chunks of 10
    queries for any size of weights."""
    q, k, v = (torch.randn(2, heads, length, width, dtype=torch.float64, requires_grad=True) for _ in range(3))
    mask = torch.ones(2, 1, 1, length, dtype=torch.bool)
    mask[1, ..., length - padded:] = False
    monkeypatch.setattr(module, "CHUNKED_ABOVE", 0)
    monkeypatch.setattr(module, "QUERY_CHUNK", 10)
    return q, k, v, mask


def test_chunked_attention_matches_the_whole_in_value_and_gradient(monkeypatch):
    torch.manual_seed(0)
    q, k, v, mask = chunked_inputs(monkeypatch, heads=4, length=37, padded=7, width=8)
    # a dropout too small to drop anything still takes the chunked, checkpointed path
    chunked = module.scaled_dot_product_attention(q, k, v, mask, 1e-12)
    grads = torch.autograd.grad(chunked.square().sum(), (q, k, v))
    whole = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    expected = torch.autograd.grad(whole.square().sum(), (q, k, v))
    assert torch.allclose(chunked, whole, atol=1e-10)
    assert all(torch.allclose(a, b, atol=1e-9) for a, b in zip(grads, expected))


def test_dialogue_attention_equals_torch_multihead_attention_per_dialogue():
    torch.manual_seed(1)
    layer = DialogueAttention(16, 4, dropout=0.3).eval()
    x, y = torch.randn(9, 16), torch.randn(9, 16)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    out = layer(x, y, batch)
    for d in (0, 1):
        rows = batch == d
        ref, _ = layer.attention(x[rows][None], y[rows][None], y[rows][None], need_weights=False)
        assert torch.allclose(out[rows], ref[0], atol=1e-6)


def reference_attention_with_dropout(q, k, v, mask, p, draws):
    """softmax(q k^T / sqrt(d)) over the keys ``mask`` lets through, each weight kept where its
    uniform draw is >= p and scaled by 1 / (1 - p), times v; per dialogue and head, loops."""
    B, H, L, d = q.shape
    out = torch.zeros_like(q)
    for b in range(B):
        keys = [j for j in range(k.size(2)) if mask[b, 0, 0, j]]
        for h in range(H):
            for i in range(L):
                scores = torch.stack([q[b, h, i] @ k[b, h, j] / d ** 0.5 for j in keys])
                weights = torch.exp(scores - scores.max())
                weights = weights / weights.sum()
                for w, j in zip(weights, keys):
                    if draws[b, h, i, j] >= p:
                        out[b, h, i] = out[b, h, i] + w / (1 - p) * v[b, h, j]
    return out


def test_attention_dropout_on_cpu_drops_the_weights_with_a_uniform_draw():
    torch.manual_seed(2)
    q, k, v = (torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True) for _ in range(3))
    mask = torch.ones(2, 1, 1, 5, dtype=torch.bool)
    mask[1, ..., 3:] = False
    torch.manual_seed(7)
    out = module.attention_with_dropout(q, k, v, mask, 0.4)
    torch.manual_seed(7)
    draws = torch.rand(2, 3, 5, 5, dtype=torch.float64)              # the one draw: the weights' shape
    ref = reference_attention_with_dropout(q, k, v, mask, 0.4, draws)
    assert 0.2 < (draws < 0.4).double().mean() < 0.6                   # some weights are dropped
    assert torch.allclose(out, ref, atol=1e-12)
    w = torch.randn_like(out)
    grads = torch.autograd.grad((out * w).sum(), (q, k, v))
    expected = torch.autograd.grad((ref * w).sum(), (q, k, v))
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(grads, expected))
    # without dropout it is torch's kernel
    whole = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.equal(module.attention_with_dropout(q, k, v, mask, 0.0), whole)


def test_chunked_attention_with_dropout_replays_its_draws_in_the_backward(monkeypatch):
    torch.manual_seed(3)
    q, k, v, mask = chunked_inputs(monkeypatch, heads=2, length=23, padded=6, width=4)
    torch.manual_seed(11)
    chunked = module.scaled_dot_product_attention(q, k, v, mask, 0.5)
    grads = torch.autograd.grad(chunked.square().sum(), (q, k, v))   # recomputes each chunk
    torch.manual_seed(11)                                              # the same draws, no recomputation
    plain = torch.cat([F.scaled_dot_product_attention(q[:, :, s:s + 10], k, v, attn_mask=mask, dropout_p=0.5)
                       for s in (0, 10, 20)], 2)
    expected = torch.autograd.grad(plain.square().sum(), (q, k, v))
    assert torch.equal(chunked, plain)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(grads, expected))


def test_attention_dropout_in_bf16_computes_in_float32_with_the_float32_draws():
    torch.manual_seed(4)
    q, k, v = (torch.randn(2, 2, 6, 4, dtype=torch.bfloat16) for _ in range(3))
    mask = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    mask[1, ..., 4:] = False
    torch.manual_seed(5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = module.attention_with_dropout(q, k, v, mask, 0.3)
    torch.manual_seed(5)
    draws = torch.rand(2, 2, 6, 6).double()                            # drawn in float32, as in a float32 run
    ref = reference_attention_with_dropout(q.double(), k.double(), v.double(), mask, 0.3, draws)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.double(), ref, atol=1e-4, rtol=2 ** -8)  # the rounding of the result to bf16 only
