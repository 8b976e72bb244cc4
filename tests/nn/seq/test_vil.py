"""The ViL block against a reference written from the xLSTM paper's recurrent mLSTM (Beck et al.
2024, eqs. 19-27, stabilised), one sequence and one step at a time in float64: the block computes
the parallel form, so a wrong decay matrix, stabiliser or normaliser fails here. benchmarks/fidelity.py
compares it with NX-AI's own ``vision_lstm.ViLBlock``."""
import math

import pytest
import torch

from references import assert_same_forward_and_gradients, randomise, sigmoid
from dialoggraph.nn.seq import ViLBlock, parallel_mlstm


def layer_norm_plain(x, weight, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + eps) * weight


def silu(x):
    return x * sigmoid(x)


def mlstm_recurrent(q, k, v, i, f, eps=1e-6):
    """One head: C_t = f' C + i' v k^T, n_t = f' n + i' k, stabiliser m_t = max(log sig(f) + m, i)
    starting from no state, h_t = C_t q_t / (max(|n_t . q_t|, e^{-m_t}) + eps); keys scaled 1/sqrt(d)."""
    S, d = q.shape
    C, n, m = torch.zeros(d, d, dtype=q.dtype, device=q.device), torch.zeros(d, dtype=q.dtype, device=q.device), None
    out = []
    for t in range(S):
        log_f = -torch.log1p(torch.exp(-f[t]))
        m_new = i[t] if m is None else torch.maximum(log_f + m, i[t])
        f_gate = 0.0 if m is None else torch.exp(log_f + m - m_new)
        i_gate = torch.exp(i[t] - m_new)
        key = k[t] / math.sqrt(d)
        C = f_gate * C + i_gate * torch.outer(v[t], key)
        n = f_gate * n + i_gate * key
        out.append(C @ q[t] / (torch.maximum((n @ q[t]).abs(), torch.exp(-m_new)) + eps))
        m = m_new
    return torch.stack(out)


def vil_reference(block, x):
    """The block on one sequence x [S, D], every step written out."""
    S = x.size(0)
    inner, heads = block.inner, block.heads
    up = layer_norm_plain(x, 1.0 + block.norm_weight) @ block.up.weight.t()
    u, z = up[:, :inner], up[:, inner:]
    kernel = block.conv.weight[:, 0]                                       # [inner, K], depthwise
    K = kernel.size(1)
    conv = torch.stack([block.conv.bias + sum(kernel[:, K - 1 - j] * u[t - j] for j in range(K) if t - j >= 0)
                        for t in range(S)])                               # causal: taps on t, t-1, ..., t-K+1
    c = silu(conv)

    def blockwise(a, which):
        size = block.block
        return torch.cat([a[:, b * size:(b + 1) * size] @ block.qkv[which, b].t() for b in range(inner // size)], -1)

    q, k, v = blockwise(c, 0), blockwise(c, 1), blockwise(u, 2)
    gates_in = torch.cat([q, k, v], -1)
    i = gates_in @ block.input_gate.weight.t() + block.input_gate.bias
    f = gates_in @ block.forget_gate.weight.t() + block.forget_gate.bias
    d = inner // heads
    h = torch.cat([mlstm_recurrent(q[:, j * d:(j + 1) * d], k[:, j * d:(j + 1) * d], v[:, j * d:(j + 1) * d],
                                   i[:, j], f[:, j]) for j in range(heads)], -1)
    weight = 1.0 + block.head_norm_weight
    h = torch.cat([layer_norm_plain(h[:, j * d:(j + 1) * d], weight[j * d:(j + 1) * d]) for j in range(heads)], -1)
    return x + ((h + block.skip * c) * silu(z)) @ block.down.weight.t()


@pytest.mark.parametrize("channels,length", [(8, 1), (8, 5), (12, 7)])
def test_vil_block_is_the_recurrent_mlstm_block(channels, length):
    block = randomise(ViLBlock(channels), std=0.4, seed=channels + length).double()
    x = torch.randn(3, length, channels, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out = block(x)
    ref = torch.stack([vil_reference(block, x_ref[b]) for b in range(3)])
    assert_same_forward_and_gradients(block, [x], [x_ref], out, ref)


def test_parallel_mlstm_is_stable_for_large_gates():
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 6, 4, dtype=torch.float64) for _ in range(3))
    i, f = torch.full((1, 1, 6), 80.0, dtype=torch.float64), torch.full((1, 1, 6), 60.0, dtype=torch.float64)
    out = parallel_mlstm(q, k, v, i, f)
    assert torch.isfinite(out).all()
    assert torch.allclose(out[0, 0], mlstm_recurrent(q[0, 0], k[0, 0], v[0, 0], i[0, 0], f[0, 0]), atol=1e-10)


def test_initialisation_is_the_released_one():
    torch.manual_seed(0)
    block = ViLBlock(64)
    assert block.forget_gate.bias.tolist() == pytest.approx(torch.linspace(3.0, 6.0, 4).tolist())
    assert not block.input_gate.weight.any() and not block.forget_gate.weight.any()
    assert block.up.bias is None and block.down.bias is None
    assert block.up.weight.std().item() == pytest.approx(math.sqrt(2 / (5 * 64)), rel=0.05)
    assert block.down.weight.std().item() == pytest.approx(2 / math.sqrt(64), rel=0.05)
    assert not block.norm_weight.any() and (block.skip == 1).all()
