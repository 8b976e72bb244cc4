import pytest
import torch
from torch_geometric.utils import to_dense_adj, to_dense_batch

from conftest import random_batch
from dialoggraph.graphs import dag_edges
from dialoggraph.nn import DAGConv, DAGSchedule
from dialoggraph.nn.conv.dag_conv import DAGWalk


def padded_reference(conv: DAGConv, x, edge_index, same_speaker, batch):
    """DAG-ERC as its original code runs it: padded [B, L] tensors, position by position,
    attention over the prefix H1 built so far with dense adj / s_mask rows."""
    X, mask = to_dense_batch(x, batch)                                           # [B, L, C]
    B, L, C = X.shape
    adj = to_dense_adj(edge_index, batch, max_num_nodes=L).transpose(1, 2)       # adj[b, i, j]: j -> i
    s_mask = to_dense_adj(edge_index, batch, edge_attr=same_speaker.float(), max_num_nodes=L).transpose(1, 2)
    zeros = X.new_zeros(B, C)
    H1 = (conv.gru_node(X[:, 0], zeros) + conv.gru_context(zeros, X[:, 0])).unsqueeze(1)
    for i in range(1, L):
        Q = X[:, i].unsqueeze(1).expand(-1, i, -1)                              # previous layer, query
        K = H1                                                                   # current layer, keys
        score = conv.attention(torch.cat((K, Q), dim=2)).squeeze(2)              # [B, i]
        a = adj[:, i, :i]
        score = score - (1 - a) * 1e30                                           # DAG-ERC's mask_logic
        weight = torch.softmax(score, dim=1)
        s = s_mask[:, i, :i].unsqueeze(2)
        V = conv.relation_same(H1) * s + conv.relation_other(H1) * (1 - s)
        M = torch.bmm(weight.unsqueeze(1), V).squeeze(1)
        H = conv.gru_node(X[:, i], M) + conv.gru_context(M, X[:, i])
        H1 = torch.cat((H1, H.unsqueeze(1)), dim=1)
    return H1[mask]


@pytest.mark.parametrize("window,max_speakers", [(1, 2), (1, 9), (2, 3)])
def test_matches_padded_reference_forward_and_backward(window, max_speakers):
    torch.manual_seed(window * 7 + max_speakers)
    g = torch.Generator().manual_seed(max_speakers)
    speaker, batch = random_batch(g, 7, 15, max_speakers)
    edge_index, same = dag_edges(speaker, batch, window)
    conv = DAGConv(8)
    x = torch.randn(speaker.numel(), 8)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = conv(x1, edge_index, same, batch)
    ref = padded_reference(conv, x2, edge_index, same, batch)
    assert torch.allclose(out, ref, atol=1e-5)
    weight = torch.randn_like(out)
    grads = torch.autograd.grad((out * weight).sum(), [x1] + list(conv.parameters()))
    ref_grads = torch.autograd.grad((ref * weight).sum(), [x2] + list(conv.parameters()))
    for name, a, b in zip(["x"] + [n for n, _ in conv.named_parameters()], grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-5), name


def test_attention_weights_per_edge_and_schedule_reuse():
    torch.manual_seed(0)
    speaker = torch.tensor([0, 1, 0, 0, 1, 2, 0, 1])
    batch = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1])
    edge_index, same = dag_edges(speaker, batch)
    conv = DAGConv(4)
    x = torch.randn(8, 4)
    schedule = DAGSchedule.build(edge_index, same, batch, 8)
    out, (returned, alpha) = conv(x, edge_index, same, batch, return_attention_weights=True)
    assert torch.equal(returned, edge_index) and alpha.shape == (edge_index.size(1),)
    per_target = torch.zeros(8).index_add_(0, edge_index[1], alpha)
    has_predecessor = torch.zeros(8, dtype=torch.bool)
    has_predecessor[edge_index[1]] = True
    assert torch.allclose(per_target[has_predecessor], torch.ones(int(has_predecessor.sum())))
    assert torch.equal(conv(x, edge_index, same, batch, schedule=schedule), out)
    assert schedule.level_sizes == [2, 2, 2, 1, 1]


def test_causal_and_dialogues_isolated():
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(5)
    speaker, batch = random_batch(g, 5, 10, 3)
    edge_index, same = dag_edges(speaker, batch)
    conv = DAGConv(6)
    x = torch.randn(speaker.numel(), 6)
    out = conv(x, edge_index, same, batch)
    # Changing the last utterance of dialogue 0 changes nothing else (DAG: no future, no other dialogue).
    last = int((batch == 0).nonzero().max())
    changed = x.clone()
    changed[last] += 3
    out2 = conv(changed, edge_index, same, batch)
    others = torch.arange(x.size(0)) != last
    assert torch.allclose(out[others], out2[others], atol=1e-6)
    assert not torch.allclose(out[last], out2[last])


def test_single_utterance_and_bad_edges():
    conv = DAGConv(3)
    x = torch.randn(1, 3)
    out = conv(x, torch.empty(2, 0, dtype=torch.long), torch.empty(0, dtype=torch.bool))
    assert out.shape == (1, 3) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="earlier to a later"):
        conv(torch.randn(2, 3), torch.tensor([[1], [0]]), torch.tensor([True]))
    assert repr(conv) == "DAGConv(3)"


def test_a_node_without_predecessor_gets_no_message():
    """A later utterance with no incoming edge, at a level where others have one: M = 0, its
    state GRU_node(x, 0) + GRU_ctx(0, x); the other nodes still match the padded reference."""
    torch.manual_seed(3)
    # Dialogue 0 (nodes 0-3): node 2 has no predecessor; dialogue 1 (nodes 4-6): a chain, so
    # level 2 holds node 2 beside node 6, which has one.
    edge_index = torch.tensor([[0, 1, 0, 4, 5], [1, 3, 3, 5, 6]])
    same = torch.tensor([True, False, True, False, True])
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    conv = DAGConv(5)
    x = torch.randn(7, 5, requires_grad=True)
    out = conv(x, edge_index, same, batch)
    zeros = torch.zeros(1, 5)
    alone = conv.gru_node(x[2:3], zeros) + conv.gru_context(zeros, x[2:3])
    torch.testing.assert_close(out[2:3], alone)
    ref = padded_reference(conv, x, edge_index, same, batch)
    keep = [0, 1, 3, 4, 5, 6]
    torch.testing.assert_close(out[keep], ref[keep])
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_walk_backward_matches_finite_differences(device):
    """DAGWalk's written-out backward against numerical derivatives (float64, on the device under
    test), on a batch with both relations, windows of 2, and a node with no predecessor at a level
    where others have one."""
    torch.manual_seed(4)
    edge_index = torch.tensor([[0, 1, 0, 4, 5, 4, 7], [1, 3, 3, 5, 6, 6, 8]], device=device)
    same = torch.tensor([True, False, True, False, True, False, True], device=device)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2], device=device)
    schedule = DAGSchedule.build(edge_index, same, batch, 9)
    assert schedule.window_blocked.any() and not schedule.window_blocked.all()
    C = 3
    inputs = [torch.randn(9, C), torch.randn(9, 6 * C + 1), torch.randn(C, 6 * C), torch.randn(6 * C),
              torch.randn(C, 2 * C), torch.randn(C)]
    inputs = [t.double().to(device).requires_grad_() for t in inputs]
    assert torch.autograd.gradcheck(lambda *xs: DAGWalk.apply(schedule, *xs)[0], inputs)


def test_walk_is_a_float32_island_under_autocast():
    torch.manual_seed(5)
    g = torch.Generator().manual_seed(2)
    speaker, batch = random_batch(g, 4, 9, 3)
    edge_index, same = dag_edges(speaker, batch, 2)
    conv = DAGConv(8)
    x = torch.randn(speaker.numel(), 8)
    want = conv(x, edge_index, same, batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = conv(x.bfloat16(), edge_index, same, batch)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, conv(x.bfloat16().float(), edge_index, same, batch))
    assert (got - want).abs().max() < 0.05


def test_layer_runs_in_float64():
    torch.manual_seed(6)
    g = torch.Generator().manual_seed(3)
    speaker, batch = random_batch(g, 3, 8, 2)
    edge_index, same = dag_edges(speaker, batch, 1)
    conv = DAGConv(4).double()
    x = torch.randn(speaker.numel(), 4, dtype=torch.float64, requires_grad=True)
    out = conv(x, edge_index, same, batch)
    ref = padded_reference(conv, x, edge_index, same, batch)
    torch.testing.assert_close(out, ref)
    weight = torch.randn_like(out)
    for a, b in zip(torch.autograd.grad((out * weight).sum(), [x, *conv.parameters()]),
                    torch.autograd.grad((ref * weight).sum(), [x, *conv.parameters()])):
        torch.testing.assert_close(a, b)
