import pytest
import torch
from torch_geometric.utils import to_dense_adj, to_dense_batch

from conftest import random_batch
from dialoggraph.graphs import dag_edges
from dialoggraph.nn import DAGConv, DAGSchedule
from dialoggraph.nn.conv.dag_conv import SharedLinear


def padded_reference(conv: DAGConv, x, edge_index, same_speaker, batch):
    """DAG-ERC as its original code runs it: padded [B, L] tensors, position by position,
    attention over the prefix H1 built so far with dense adj / s_mask rows."""
    X, mask = to_dense_batch(x, batch)                                           # [B, L, C]
    B, L, C = X.shape
    adj = to_dense_adj(edge_index, batch, max_num_nodes=L).transpose(1, 2)       # adj[b, i, j]: j -> i
    s_mask = to_dense_adj(edge_index, batch, edge_attr=same_speaker.float(), max_num_nodes=L).transpose(1, 2)
    zeros = torch.zeros(B, C)
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


@pytest.mark.parametrize("with_bias", [True, False])
def test_shared_linear_gives_autograds_gradients_in_one_matmul(with_bias):
    """A walk of steps of different sizes, one step's output unused, the weight a view of a
    parameter (as DAGConv's concatenated, transposed maps are): the same values and gradients
    as the plain affine map, again from a second backward over the retained graph, and again
    after a pass that asked for the input's gradient only."""
    torch.manual_seed(0)
    weight = torch.randn(5, 5, requires_grad=True)
    bias = torch.randn(5, requires_grad=True) if with_bias else None
    x = torch.randn(4, 5, requires_grad=True)

    def walk(step):
        h, outputs = x, []
        for rows in (4, 3, 3, 1):
            h = torch.tanh(step(h[:rows]))
            outputs.append(h)
        step(h)                                                  # unused: no gradient from it
        return torch.cat(outputs)

    def plain(h):
        return h @ weight.t().t() if bias is None else torch.addmm(bias, h, weight.t().t())

    leaves = [x, weight] + ([bias] if with_bias else [])
    probe = torch.randn(11, 5)
    shared_out = walk(SharedLinear(weight.t().t(), bias))
    first = torch.autograd.grad((shared_out * probe).sum(), leaves, retain_graph=True)
    second = torch.autograd.grad((shared_out * probe).sum(), leaves, retain_graph=True)
    only_x = torch.autograd.grad((shared_out * probe).sum(), [x], retain_graph=True)   # stops short of the token
    third = torch.autograd.grad((shared_out * probe).sum(), leaves)
    plain_out = walk(plain)
    expected = torch.autograd.grad((plain_out * probe).sum(), leaves)
    torch.testing.assert_close(shared_out, plain_out)
    torch.testing.assert_close(only_x[0], expected[0])
    for a, b, c, d in zip(first, second, third, expected):
        torch.testing.assert_close(a, d)
        torch.testing.assert_close(b, d)
        torch.testing.assert_close(c, d)
    with torch.no_grad():
        assert SharedLinear(weight, bias).token is None


@pytest.mark.parametrize("backward_inside", [False, True])
def test_shared_linear_under_autocast_matches_autocasts_own_matmul(backward_inside):
    """Under bf16 autocast the walk computes in bf16 as autocast's addmm does, forward and
    backward, with the backward outside the autocast region (the trainer's, as PyTorch's AMP
    recipe has it) or inside; the gradients come back in the parameters' float32."""
    torch.manual_seed(0)
    weight = torch.randn(6, 6, requires_grad=True)
    bias = torch.randn(6, requires_grad=True)
    x = torch.randn(5, 6, requires_grad=True)

    def walk(step):
        h, outputs = x, []
        for rows in (5, 3, 2):
            h = torch.tanh(step(h[:rows]))
            outputs.append(h)
        return torch.cat(outputs)

    def gradients(step_of):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = walk(step_of())
            loss = out.float().square().sum()
            if backward_inside:
                return out, torch.autograd.grad(loss, [x, weight, bias])
        return out, torch.autograd.grad(loss, [x, weight, bias])

    shared_out, shared = gradients(lambda: SharedLinear(weight, bias))
    plain_out, plain = gradients(lambda: (lambda h: torch.addmm(bias, h, weight)))
    assert shared_out.dtype == plain_out.dtype == torch.bfloat16
    torch.testing.assert_close(shared_out, plain_out)
    assert all(a.dtype == torch.float32 for a in shared)
    torch.testing.assert_close(shared[0], plain[0])                     # the same bf16 matmuls
    for a, b in zip(shared[1:], plain[1:]):
        # The weight's and bias's gradients: one bf16 matmul over the walk against one per step
        # summed in float32, so they differ by bf16 rounding, about 2^-8 of their size.
        assert (a - b).norm() / b.norm() < 8e-3


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
