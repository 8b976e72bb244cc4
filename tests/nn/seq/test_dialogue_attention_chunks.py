"""The long-dialogue attention path: query chunks with activation checkpointing."""
import torch
import torch.nn.functional as F

import dialoggraph.nn.seq.dialogue_attention as module
from dialoggraph.nn import DialogueAttention


def test_chunked_attention_matches_the_whole_in_value_and_gradient(monkeypatch):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 37, 8, dtype=torch.float64, requires_grad=True) for _ in range(3))
    mask = torch.ones(2, 1, 1, 37, dtype=torch.bool)
    mask[1, ..., 30:] = False
    monkeypatch.setattr(module, "CHUNKED_ABOVE", 0)
    monkeypatch.setattr(module, "QUERY_CHUNK", 10)
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
