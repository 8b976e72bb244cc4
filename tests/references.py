"""Primitives for the independent references: written from the textbook formulas, float64,
one dialogue at a time, loops allowed. They read a module's *parameters* only, never call
its submodules or the library's helpers, so a wrong formula in the library cannot hide here.
"""
import math

import torch


def linear(x, layer):
    return x @ layer.weight.t() + (layer.bias if layer.bias is not None else 0.0)


def layer_norm(x, norm):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def sigmoid(x):
    return 1.0 / (1.0 + torch.exp(-x))


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def attention(query, key, mha):
    """softmax(Q K^T / sqrt(d_k)) V per head, every key of the dialogue visible (a torch
    ``MultiheadAttention``'s parameters: packed q/k/v projections, output projection)."""
    d = mha.embed_dim
    heads = mha.num_heads
    Wq, Wk, Wv = mha.in_proj_weight.split(d)
    bq, bk, bv = mha.in_proj_bias.split(d)
    q, k, v = query @ Wq.t() + bq, key @ Wk.t() + bk, key @ Wv.t() + bv
    size = d // heads
    out = torch.zeros(query.size(0), d, dtype=query.dtype, device=query.device)
    for h in range(heads):
        cols = slice(h * size, (h + 1) * size)
        for i in range(query.size(0)):
            scores = torch.stack([q[i, cols] @ k[j, cols] / math.sqrt(size) for j in range(key.size(0))])
            weights = torch.exp(scores - scores.max())
            weights = weights / weights.sum()
            out[i, cols] = sum(weights[j] * v[j, cols] for j in range(key.size(0)))
    return out @ mha.out_proj.weight.t() + mha.out_proj.bias


def gru_direction(x, gru, suffix):
    """One direction of a torch GRU, step by step (r, z, n gates; h_t = (1 - z) n + z h_{t-1})."""
    W_ih, W_hh = getattr(gru, f"weight_ih_l0{suffix}"), getattr(gru, f"weight_hh_l0{suffix}")
    b_ih, b_hh = getattr(gru, f"bias_ih_l0{suffix}"), getattr(gru, f"bias_hh_l0{suffix}")
    h = torch.zeros(gru.hidden_size, dtype=x.dtype, device=x.device)
    outputs = []
    for t in range(x.size(0)):
        gi, gh = W_ih @ x[t] + b_ih, W_hh @ h + b_hh
        i_r, i_z, i_n = gi.chunk(3)
        h_r, h_z, h_n = gh.chunk(3)
        r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h = (1 - z) * n + z * h
        outputs.append(h)
    return torch.stack(outputs)


def bigru(x, gru):
    """A one-layer bidirectional GRU over one dialogue: [forward; backward] per step."""
    forward = gru_direction(x, gru, "")
    backward = gru_direction(x.flip(0), gru, "_reverse").flip(0)
    return torch.cat([forward, backward], dim=-1)


def per_dialogue(batch):
    """The node indices of each dialogue, in order."""
    return [(batch == d).nonzero().flatten() for d in range(int(batch.max()) + 1)]


def randomise(module, std=0.3, seed=0):
    """Move every parameter off its initial value (LayerNorm ones and zero biases hide mistakes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * std)
    return module


def assert_same_forward_and_gradients(module, inputs, ref_inputs, out, ref, atol=1e-9):
    """``out`` = module(``inputs``), ``ref`` = reference(``ref_inputs``), with equal leaf inputs:
    equal values, equal gradients to the inputs and to every parameter of ``module``."""
    weight = torch.randn_like(out)
    params = [p for p in module.parameters() if p.requires_grad]
    assert torch.allclose(out, ref, rtol=0.0, atol=atol), (out - ref).abs().max()
    grads = torch.autograd.grad((out * weight).sum(), inputs + params, retain_graph=True, allow_unused=True)
    ref_grads = torch.autograd.grad((ref * weight).sum(), ref_inputs + params, retain_graph=True,
                                    allow_unused=True)
    for a, b in zip(grads, ref_grads):
        if a is None or b is None:
            assert (a is None or not a.any()) and (b is None or not b.any())
        else:
            assert torch.allclose(a, b, rtol=0.0, atol=atol), (a - b).abs().max()


def assert_modalities_match_reference(module, run, reference, modalities, batch, channels):
    """Random float64 features per modality; ``run(x)`` (the module on the whole batch) must equal
    ``reference(x_of_one_dialogue)`` dialogue by dialogue, forward and gradients, for every modality."""
    x = {m: torch.randn(batch.numel(), channels, dtype=torch.float64, requires_grad=True) for m in modalities}
    x_ref = {m: t.detach().clone().requires_grad_() for m, t in x.items()}
    out = run(x)
    refs = [reference({m: t[idx] for m, t in x_ref.items()}) for idx in per_dialogue(batch)]
    for m in modalities:
        ref = torch.cat([r[m] for r in refs])
        assert_same_forward_and_gradients(module, list(x.values()), list(x_ref.values()), out[m], ref)
