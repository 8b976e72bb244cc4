import pytest
import torch

from dialoggraph.nn.seq.xlstm import XLSTM, MLSTMCell, SLSTMCell


def naive_slstm(cell: SLSTMCell, xs):
    """The unstabilised sLSTM: raw exponential input gate, sigmoid forget gate."""
    B, H = xs.size(0), cell.hidden_size
    h = c = n = torch.zeros(B, H, dtype=xs.dtype)
    out = []
    for t in range(xs.size(1)):
        z, i, f, o = (cell.input(xs[:, t]) + cell.recurrent(h)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.exp(i) * torch.tanh(z)
        n = torch.sigmoid(f) * n + torch.exp(i)
        h = torch.sigmoid(o) * c / n
        out.append(h)
    return torch.stack(out, 1)


def naive_mlstm(cell: MLSTMCell, xs):
    B, H, d = xs.size(0), cell.heads, cell.head_dim
    return naive_mlstm_from(cell, xs, torch.zeros(B, H, d, d, dtype=xs.dtype), torch.zeros(B, H, d, dtype=xs.dtype))[0]


def naive_mlstm_from(cell: MLSTMCell, xs, C, n):
    """The unstabilised mLSTM (raw exponential input gate, sigmoid forget gate, normaliser floor
    1) from the memory ``C`` and normaliser ``n``: the outputs and the last ``C``, ``n``."""
    B, H, d = xs.size(0), cell.heads, cell.head_dim
    out = []
    for t in range(xs.size(1)):
        x = xs[:, t]
        q, k, v = (u.view(B, H, d) for u in cell.qkv(x).chunk(3, dim=-1))
        k = k / d ** 0.5
        i, f = cell.gates(x).chunk(2, dim=-1)
        C = torch.sigmoid(f)[..., None, None] * C + torch.exp(i)[..., None, None] * v.unsqueeze(-1) * k.unsqueeze(-2)
        n = torch.sigmoid(f)[..., None] * n + torch.exp(i)[..., None] * k
        h = (C @ q.unsqueeze(-1)).squeeze(-1) / torch.clamp((n * q).sum(-1).abs(), min=1.0).unsqueeze(-1)
        out.append(torch.sigmoid(cell.output_gate(x)) * h.reshape(B, H * d))
    return torch.stack(out, 1), C, n


def run(cell, xs):
    state = cell.initial_state(xs.size(0), xs)
    out = []
    for t in range(xs.size(1)):
        h, state = cell(xs[:, t], state)
        out.append(h)
    return torch.stack(out, 1)


def test_stabilised_recurrences_equal_the_naive_ones_in_float64():
    torch.manual_seed(0)
    xs = torch.randn(3, 7, 5, dtype=torch.float64)
    s = SLSTMCell(5, 6).double()
    assert torch.allclose(run(s, xs), naive_slstm(s, xs), atol=1e-10)
    m = MLSTMCell(5, 8, heads=2).double()
    assert torch.allclose(run(m, xs), naive_mlstm(m, xs), atol=1e-10)


def test_padding_never_changes_results_bidirectional():
    torch.manual_seed(1)
    model = XLSTM(6, blocks="ms", heads=2, bidirectional=True).eval()
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    x = torch.randn(7, 6)
    together = model(x, batch)
    for b in range(3):
        alone = model(x[batch == b], torch.zeros(int((batch == b).sum()), dtype=torch.long))
        assert torch.allclose(together[batch == b], alone, atol=1e-6)


def test_no_overflow_on_long_sequences_and_large_pre_activations():
    torch.manual_seed(2)
    model = XLSTM(4, blocks="ms", heads=2).eval()
    x = torch.randn(1000, 4) * 100.0
    with torch.no_grad():
        out = model(x, None)
    assert torch.isfinite(out).all()
    s = SLSTMCell(4, 4)
    torch.nn.init.constant_(s.input.bias, 100.0)                # exp(100) overflows float32
    xs = torch.randn(2, 50, 4) * 50
    assert not torch.isfinite(naive_slstm(s, xs)).all()         # the unstabilised form breaks here ...
    assert torch.isfinite(run(s, xs)).all()                     # ... the stabilised one does not


@pytest.mark.parametrize("kind", ["s", "m"])
def test_checkpointed_segments_give_the_same_values_and_gradients(monkeypatch, kind):
    import dialoggraph.nn.seq.xlstm as module
    torch.manual_seed(0)
    layer = module.XLSTM(8, kind, heads=2, bidirectional=True).double()
    x = torch.randn(23, 8, dtype=torch.float64, requires_grad=True)
    batch = torch.tensor([0] * 17 + [1] * 6)
    whole = layer(x, batch)
    expected = torch.autograd.grad(whole.square().sum(), [x, *layer.parameters()])
    monkeypatch.setattr(module, "SEGMENT_STEPS", 5)
    segmented = layer(x, batch)
    grads = torch.autograd.grad(segmented.square().sum(), [x, *layer.parameters()])
    assert torch.allclose(segmented, whole, atol=1e-12)
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(grads, expected))


@pytest.mark.parametrize("make", [lambda: SLSTMCell(5, 6), lambda: MLSTMCell(5, 8, heads=2)],
                         ids=["sLSTM", "mLSTM"])
def test_scan_gives_the_step_by_step_values_and_gradients(make):
    """``scan`` (the projections of all steps at once) against the naive recurrence stepped by
    hand, in float64: outputs, last state and every gradient."""
    torch.manual_seed(7)
    cell = make().double()
    naive = naive_slstm if isinstance(cell, SLSTMCell) else naive_mlstm
    xs = torch.randn(3, 9, 5, dtype=torch.float64, requires_grad=True)
    out, state = cell.scan(xs, cell.initial_state(3, xs))
    want = naive(cell, xs)
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(state[0] if isinstance(cell, SLSTMCell) else out[:, -1], want[:, -1])
    weight = torch.randn_like(out)
    params = [xs, *cell.parameters()]
    for got, ref in zip(torch.autograd.grad((out * weight).sum(), params),
                        torch.autograd.grad((want * weight).sum(), params)):
        torch.testing.assert_close(got, ref)


@pytest.mark.parametrize("scale, input_bias", [(1.0, 0.0), (4.0, 2.0), (1.0, -8.0)],
                         ids=["moderate", "normaliser above 1", "state dominates"])
def test_mlstm_parallel_scan_from_a_state_equals_the_recurrence(scale, input_bias):
    """``MLSTMCell.scan`` (the parallel form) from a carried state against the unstabilised
    recurrence run from the same memory, in float64: outputs, the last state (its ``C`` and ``n``
    times ``exp(m)`` are the unstabilised ones) and the gradients of the inputs, the parameters
    and the state ``(C0, n0, m0)``. Large inputs put |n . q| above its floor; a low input gate
    makes the carried state (``m0`` = 2) set the stabiliser."""
    torch.manual_seed(8)
    cell = MLSTMCell(5, 8, heads=2).double()
    with torch.no_grad():
        cell.gates.bias[:2] += input_bias                              # the input gates' pre-activations
    B, H, d = 3, cell.heads, cell.head_dim
    C0 = (torch.randn(B, H, d, d, dtype=torch.float64) * scale).requires_grad_()
    n0 = (torch.randn(B, H, d, dtype=torch.float64) * scale).requires_grad_()
    m0 = torch.full((B, H), 2.0, dtype=torch.float64, requires_grad=True)
    xs = (torch.randn(B, 6, 5, dtype=torch.float64) * scale).requires_grad_()
    out, (C, n, m) = cell.scan(xs, (C0, n0, m0))
    scale0 = torch.exp(m0)
    want, C_raw, n_raw = naive_mlstm_from(cell, xs, C0 * scale0[..., None, None], n0 * scale0[..., None])
    torch.testing.assert_close(out, want)
    torch.testing.assert_close(C * torch.exp(m)[..., None, None], C_raw)
    torch.testing.assert_close(n * torch.exp(m)[..., None], n_raw)
    ours = (out, C * torch.exp(m)[..., None, None], n * torch.exp(m)[..., None])
    weights = [torch.randn_like(t) for t in ours]
    inputs = [xs, C0, n0, m0, *cell.parameters()]
    got = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, ours)), inputs)
    ref = torch.autograd.grad(sum((w * t).sum() for w, t in zip(weights, (want, C_raw, n_raw))), inputs)
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b)


def test_mlstm_scan_from_a_state_with_a_large_stabiliser_stays_finite():
    """A carried stabiliser m0 = 800 (its memory e^800 times larger than the new inputs', beyond
    float64) must set the new stabiliser: the parallel scan stays finite and equals the
    stabilised recurrence stepped by hand."""
    torch.manual_seed(9)
    cell = MLSTMCell(5, 8, heads=2).double()
    state = (torch.randn(2, 2, 4, 4, dtype=torch.float64), torch.randn(2, 2, 4, dtype=torch.float64),
             torch.full((2, 2), 800.0, dtype=torch.float64))
    xs = torch.randn(2, 5, 5, dtype=torch.float64)
    out, last = cell.scan(xs, state)
    assert torch.isfinite(out).all() and all(torch.isfinite(t).all() for t in last)
    stepped = []
    for t in range(5):
        h, state = cell(xs[:, t], state)
        stepped.append(h)
    torch.testing.assert_close(out, torch.stack(stepped, 1))
    for got, want in zip(last, state):
        torch.testing.assert_close(got, want)
