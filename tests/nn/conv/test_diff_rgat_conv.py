import pytest
import torch
import torch.nn.functional as F
from torch_geometric.utils import to_dense_adj, to_dense_batch

from conftest import random_batch
from dialoggraph.graphs import speaker_window_edges, split_speaker_subgraphs
from dialoggraph.nn import DiffRGATBlock, DiffRGATConv
from dialoggraph.nn.conv.diff_rgat_conv import lambda_init


def dense_reference(conv: DiffRGATConv, x, edge_index, edge_rel, batch):
    """The paper's formulation on padded [B, L, L] tensors (Alg. 1, eqs. 9-18), one head at a time."""
    X, mask = to_dense_batch(x, batch)                                    # [B, L, F]
    B, L, _ = X.shape
    adj = to_dense_adj(edge_index, batch, max_num_nodes=L) > 0           # adj[b, source, target]
    adj = adj.transpose(1, 2)                                             # adj[b, i, j]: edge j -> i
    rel = None
    if edge_rel is not None:
        rel = to_dense_adj(edge_index, batch, edge_attr=edge_rel + 1, max_num_nodes=L).transpose(1, 2).long() - 1
    C, half = conv.out_channels, conv.out_channels // 2
    heads = []
    for h in range(conv.heads):
        W = conv.lin.weight[h * C:(h + 1) * C]                            # [C, F]
        Wh = X @ W.t()                                                    # eq. 9
        pos, neg = Wh[..., :half], Wh[..., half:]                         # eq. 11
        alphas = []
        for b_idx, branch in enumerate((pos, neg)):
            q = branch @ conv.att_left[h, b_idx]                          # eq. 10: [B, L]
            k = branch @ conv.att_right[h, b_idx]
            e = q.unsqueeze(2) + k.unsqueeze(1)                           # eq. 12: e[b, i, j]
            if rel is not None:
                table = conv.relation_emb[h] @ conv.relation_att[h, b_idx]   # [R]
                e = e + table[rel.clamp(min=0)]
            e = F.leaky_relu(e, conv.negative_slope)
            e = e.masked_fill(~adj, float("-inf"))
            a = torch.softmax(e, dim=2)
            alphas.append(torch.nan_to_num(a, nan=0.0))                   # padded rows
        lam = conv.lambdas[h]
        lam_full = torch.exp(lam[0] @ lam[1]) - torch.exp(lam[2] @ lam[3]) + lambda_init(conv.depth)  # eqs. 13-14
        alpha = alphas[0] - lam_full * alphas[1]                          # eq. 15
        out = alpha @ Wh                                                  # eqs. 16-17
        out = F.layer_norm(out, (C,)) * conv.norm_weight[h] + conv.norm_bias[h]
        heads.append(out * (1 - lambda_init(conv.depth)))
    out = torch.cat(heads, -1) if conv.concat else torch.stack(heads).mean(0)   # eq. 18
    if conv.bias is not None:
        out = out + conv.bias
    return out[mask]


def make_graph(seed, num_dialogues=6, max_len=12, max_speakers=3, window=3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    speaker, batch = random_batch(g, num_dialogues, max_len, max_speakers)
    edge_index, edge_rel = speaker_window_edges(speaker, batch, window, window)
    x = torch.randn(speaker.numel(), 16, generator=g, dtype=dtype)
    return x, edge_index, edge_rel, batch


@pytest.mark.parametrize("heads,concat,relations", [(1, True, True), (3, True, True), (2, False, True),
                                                     (2, True, False)])
def test_matches_dense_reference_forward_and_backward(heads, concat, relations):
    torch.manual_seed(0)
    conv = DiffRGATConv(16, 8, heads=heads, concat=concat, depth=2)
    torch.nn.init.normal_(conv.bias)
    x, edge_index, edge_rel, batch = make_graph(heads)
    edge_rel = edge_rel if relations else None
    x1 = x.clone().requires_grad_()
    x2 = x.clone().requires_grad_()
    out = conv(x1, edge_index, edge_rel)
    ref = dense_reference(conv, x2, edge_index, edge_rel, batch)
    assert out.shape == (x.size(0), heads * 8 if concat else 8)
    assert torch.allclose(out, ref, atol=1e-5)
    weight = torch.randn_like(out)
    grads = torch.autograd.grad((out * weight).sum(), [x1] + list(conv.parameters()), allow_unused=True)
    ref_grads = torch.autograd.grad((ref * weight).sum(), [x2] + list(conv.parameters()), allow_unused=True)
    for name, a, b in zip(["x"] + [n for n, _ in conv.named_parameters()], grads, ref_grads):
        if a is None and b is None:
            continue
        assert torch.allclose(a, b, atol=1e-5), name


def test_subgraph_and_attention_weights():
    torch.manual_seed(1)
    x, edge_index, edge_rel, batch = make_graph(7)
    (intra, intra_rel), _ = split_speaker_subgraphs(edge_index, edge_rel)
    conv = DiffRGATConv(16, 6, heads=2)
    out, (returned, alpha) = conv(x, intra, intra_rel, return_attention_weights=True)
    assert torch.equal(returned, intra)
    assert alpha.shape == (intra.size(1), 2)
    # Each target's weights sum to 1 - lambda_full (both softmaxes sum to 1).
    per_target = torch.zeros(x.size(0), 2).index_add_(0, intra[1], alpha)
    assert torch.allclose(per_target, (1 - conv.lambda_full()).expand_as(per_target), atol=1e-5)
    assert torch.allclose(out, dense_reference(conv, x, intra, intra_rel, batch), atol=1e-5)


def test_dialogues_never_influence_each_other():
    torch.manual_seed(2)
    conv = DiffRGATConv(16, 8, heads=2)
    x, edge_index, edge_rel, batch = make_graph(3, num_dialogues=4)
    out = conv(x, edge_index, edge_rel)
    changed = x.clone()
    changed[batch == 1] = torch.randn_like(changed[batch == 1]) * 10
    out2 = conv(changed, edge_index, edge_rel)
    assert torch.allclose(out[batch != 1], out2[batch != 1], atol=1e-6)
    assert not torch.allclose(out[batch == 1], out2[batch == 1])


def test_node_with_only_a_self_loop():
    conv = DiffRGATConv(4, 4, heads=2)
    x = torch.randn(3, 4)
    edge_index = torch.tensor([[0, 1, 2, 0], [0, 1, 2, 1]])  # node 2: self loop only
    edge_rel = torch.tensor([0, 0, 0, 3])
    out, (_, alpha) = conv(x, edge_index, edge_rel, return_attention_weights=True)
    assert torch.isfinite(out).all()
    assert torch.allclose(alpha[2], 1 - conv.lambda_full())
    isolated = conv(x, torch.empty(2, 0, dtype=torch.long))  # no edges at all: zero aggregation
    assert torch.isfinite(isolated).all()


def test_gradcheck_float64(device):
    torch.manual_seed(3)
    conv = DiffRGATConv(5, 4, heads=2, relation_dim=3).double().to(device)
    x, edge_index, edge_rel, _ = (t.to(device) for t in make_graph(11, num_dialogues=2, max_len=4, window=2,
                                                                   dtype=torch.float64))
    x = x[:, :5].clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda x: conv(x, edge_index, edge_rel), (x,))


def test_dropout_only_in_training_and_repr():
    conv = DiffRGATConv(16, 8, heads=2, dropout=0.5)
    x, edge_index, edge_rel, _ = make_graph(5)
    conv.eval()
    assert torch.equal(conv(x, edge_index, edge_rel), conv(x, edge_index, edge_rel))
    conv.train()
    assert not torch.equal(conv(x, edge_index, edge_rel), conv(x, edge_index, edge_rel))
    assert repr(conv) == "DiffRGATConv(16, 8, heads=2, num_relations=5, depth=1)"
    with pytest.raises(ValueError, match="even"):
        DiffRGATConv(4, 3)


def test_lambda_init_values():
    assert lambda_init(0) == pytest.approx(0.2)
    assert lambda_init(1) == pytest.approx(0.8 - 0.6 * torch.exp(torch.tensor(-0.3)).item())
    assert lambda_init(100) == pytest.approx(0.8, abs=1e-6)


def test_block_residual_shape_and_isolation():
    torch.manual_seed(4)
    block = DiffRGATBlock(16, heads=2).eval()
    x, edge_index, edge_rel, batch = make_graph(9, num_dialogues=3)
    out = block(x, edge_index, edge_rel)
    assert out.shape == x.shape
    # LayerNorm output: zero mean, unit variance per node (affine at init).
    assert torch.allclose(out.mean(-1), torch.zeros(x.size(0)), atol=1e-5)
    changed = x.clone()
    changed[batch == 0] += 5
    assert torch.allclose(block(changed, edge_index, edge_rel)[batch != 0], out[batch != 0], atol=1e-5)
    # A training step moves the loss.
    optimizer = torch.optim.SGD(block.parameters(), lr=0.1)
    target = torch.randn_like(out)
    losses = []
    for _ in range(5):
        loss = F.mse_loss(block(x, edge_index, edge_rel), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
