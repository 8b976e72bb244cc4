"""Where a paper is vague the authors' released code decides: the few lines that decide are
ported here (per dialogue, float64, loops allowed) and share only parameters with our modules.

Sources: github wys-ljq/AMB-DSGDN (model.py: DiffGraphAttentionLayer, DiffRGCN,
TransformerEncoder, calcu_q; train.py: the eq. 33 loss), shenwzh3/DAG-ERC (model.py:
DAGERC_fushion.out_mlp), NX-AI/xlstm (the vanilla sLSTM pointwise step).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch_geometric.utils import to_dense_adj

from conftest import random_batch
from dialoggraph.graphs import speaker_window_edges
from dialoggraph.nn import DiffRGATBlock, DiffRGATConv
from dialoggraph.models import DAGERC, DAGERCConfig
from dialoggraph.nn.fusion import dropout_probabilities, modality_performance
from dialoggraph.nn.seq import DialogueTransformerEncoder, SLSTMCell



# -- AMB-DSGDN: DiffGraphAttentionLayer / DiffRGCN --------------------------------------------

def original_diff_attention_layer(h, rel, W, a_left, a_right, rel_score, lam, ln_w, ln_b, depth):
    """The authors' DiffGraphAttentionLayer.forward (concat=True, relation=True) on one dialogue.

    ``rel[i, j]`` is 0 without an edge j -> i, else relation id + 1; ``a_left/a_right`` are
    [2, C/2] (pos, neg); ``rel_score`` [2, R] is a_rel(relation_embedding(r)) per branch.
    """
    lambda_init = 0.8 - 0.6 * math.exp(-0.3 * depth)
    Wh = h @ W
    half = Wh.size(1) // 2
    branches = (Wh[:, :half], Wh[:, half:])
    attention = []
    for b, v in enumerate(branches):
        e = (v @ a_left[b]).unsqueeze(1) + (v @ a_right[b]).unsqueeze(0)
        e = e + rel_score[b][(rel - 1).clamp(min=0)]
        e = F.leaky_relu(e, 0.2)
        e = torch.where(rel > 0, e, torch.full_like(e, -9e15))
        attention.append(torch.softmax(e, dim=1))
    lambda_full = torch.exp(torch.sum(lam[0] * lam[1])) - torch.exp(torch.sum(lam[2] * lam[3])) + lambda_init
    out = (attention[0] - lambda_full * attention[1]) @ torch.cat(branches, dim=-1)
    out = F.layer_norm(out, (out.size(1),), ln_w, ln_b) * (1 - lambda_init)
    return F.gelu(out)


def original_head(conv: DiffRGATConv, k: int, h, rel):
    """Head ``k`` of our layer as the original's separate layer (parameters mapped, not code)."""
    C = conv.out_channels
    W = conv.lin.weight[k * C:(k + 1) * C].t()
    rel_score = torch.stack([conv.relation_emb[k] @ conv.relation_att[k, b] for b in range(2)])
    return original_diff_attention_layer(h, rel, W, conv.att_left[k], conv.att_right[k], rel_score,
                                          conv.lambdas[k], conv.norm_weight[k], conv.norm_bias[k], conv.depth)


def original_diff_rgcn(block: DiffRGATBlock, x, rel):
    """The authors' DiffRGCN.forward in eval mode: heads of width d, each ending in GELU;
    out_att (concat=True: GELU inside) then F.gelu again; fc; residual; LayerNorm."""
    z = torch.cat([original_head(block.heads_layer, k, x, rel) for k in range(block.heads_layer.heads)], -1)
    o = F.gelu(original_head(block.out_layer, 0, z, rel))
    fc = o @ block.linear.weight.t() + block.linear.bias
    return F.layer_norm(x + fc, (x.size(1),), block.norm.weight, block.norm.bias)


def dialogue_graph(seed, d):
    g = torch.Generator().manual_seed(seed)
    speaker, batch = random_batch(g, 4, 9, 3)
    edge_index, edge_rel = speaker_window_edges(speaker, batch, 2, 2)
    x = torch.randn(speaker.numel(), d, generator=g, dtype=torch.float64)
    return x, edge_index, edge_rel, batch


def test_diff_rgat_block_is_the_authors_diff_rgcn_forward_and_backward():
    torch.manual_seed(0)
    block = DiffRGATBlock(8, heads=2).double().eval()
    for p in block.parameters():                  # move off the LayerNorm/bias initial values
        torch.nn.init.normal_(p, std=0.3)
    x, edge_index, edge_rel, batch = dialogue_graph(1, 8)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = block(x1, edge_index, edge_rel)
    expected = []
    for d in range(int(batch.max()) + 1):
        inside = (batch == d).nonzero().flatten()
        local_index = torch.searchsorted(inside, edge_index[:, (batch[edge_index[1]] == d)])
        rel = to_dense_adj(local_index, edge_attr=edge_rel[batch[edge_index[1]] == d] + 1,
                           max_num_nodes=inside.numel())[0].long().t()     # rel[i, j]: edge j -> i
        expected.append(original_diff_rgcn(block, x2[inside], rel))
    ref = torch.cat(expected)
    assert torch.allclose(out, ref, atol=1e-10)
    weight = torch.randn_like(out)
    params = list(block.parameters())
    grads = torch.autograd.grad((out * weight).sum(), [x1] + params, allow_unused=True)
    ref_grads = torch.autograd.grad((ref * weight).sum(), [x2] + params, allow_unused=True)
    for a, b in zip(grads, ref_grads):
        assert (a is None and b is None) or torch.allclose(a, b, atol=1e-9)


def test_diff_rgat_block_has_the_originals_size():
    # DiffRGCN(512, 512, nheads=2): 1.32 M parameters (relation tables of 6 x 10 there, 5 x 10 here).
    count = sum(p.numel() for p in DiffRGATBlock(512, heads=2).parameters())
    assert abs(count - 1_320_000) < 10_000


def test_lambda_full_starts_near_lambda_init():
    torch.manual_seed(0)
    convs = [DiffRGATConv(8, 512, heads=2) for _ in range(100)]
    full = torch.cat([c.lambda_full().detach() for c in convs])
    assert (full.abs() > 2).sum() == 0                             # std sqrt(0.1): 45% of heads
    assert (full - convs[0].lambda_init).abs().median() < 0.3


def test_diff_rgat_conv_is_initialised_as_the_authors_layer():
    """model.py: xavier_uniform_(gain=1.414) of W [F_in, C] per head, of a_left/a_right
    (nn.Linear(C/2, 1)) and of a_rel (nn.Linear(d_r, 1)); compared with the same draws made on
    tensors of the authors' shapes (std to 3%, and the same bound)."""
    torch.manual_seed(0)
    conv = DiffRGATConv(512, 512, heads=2)
    theirs = {"W": torch.empty(512, 512), "a": torch.empty(1, 256), "a_rel": torch.empty(1, 10)}
    ours = {"W": conv.lin.weight.detach().view(2, 512, 512),
            "a": torch.cat([conv.att_left.detach().flatten(), conv.att_right.detach().flatten()]),
            "a_rel": conv.relation_att.detach()}
    for name, reference in theirs.items():
        draws = torch.stack([torch.nn.init.xavier_uniform_(reference, gain=1.414).clone() for _ in range(200)]) \
            if name != "W" else torch.nn.init.xavier_uniform_(reference, gain=1.414)
        bound = draws.abs().max()
        assert ours[name].abs().max() <= bound * 1.0001, name
        if name != "a_rel":                                    # 40 values: too few for a std
            assert abs(ours[name].std() / draws.std() - 1) < 0.03, name


# -- AMB-DSGDN: TransformerEncoder (one layer) ------------------------------------------------

def original_transformer_encoder(enc: DialogueTransformerEncoder, x, speaker, speaker_table=None):
    """The authors' TransformerEncoder(layers=1).forward on one dialogue, eval mode; the speaker
    embeddings from ``speaker_table`` (default: the encoder's)."""
    L, d = x.shape
    pe = torch.zeros(L, d, dtype=torch.float32)           # their PositionalEncoding buffer: float32
    position = torch.arange(L, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * -(math.log(10000.0) / d))
    pe[:, 0::2], pe[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
    pe = pe.to(x.dtype)
    h = x + pe + (enc.speaker.weight if speaker_table is None else speaker_table)[speaker]
    Wq, Wk, Wv = enc.attention.in_proj_weight.chunk(3)
    bq, bk, bv = enc.attention.in_proj_bias.chunk(3)
    H = enc.attention.num_heads
    q, k, v = (h @ W.t() + b for W, b in ((Wq, bq), (Wk, bk), (Wv, bv)))
    heads = []
    for i in range(H):                                             # iter 0: no LayerNorm before attention
        s = slice(i * d // H, (i + 1) * d // H)
        scores = (q[:, s] / math.sqrt(d // H)) @ k[:, s].t()
        heads.append(torch.softmax(scores, -1) @ v[:, s])
    context = torch.cat(heads, -1) @ enc.attention.out_proj.weight.t() + enc.attention.out_proj.bias
    out = context + h                                              # no LayerNorm after attention
    inner = F.layer_norm(out, (d,), enc.norm_ffn.weight, enc.norm_ffn.bias, eps=1e-6)
    u = inner @ enc.ffn_in.weight.t() + enc.ffn_in.bias
    gelu = 0.5 * u * (1 + torch.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))
    return gelu @ enc.ffn_out.weight.t() + enc.ffn_out.bias + out


def test_transformer_encoder_is_the_authors_one_layer_encoder():
    torch.manual_seed(0)
    enc = DialogueTransformerEncoder(8, heads=2, num_speakers=3).double().eval()
    for p in enc.parameters():
        torch.nn.init.normal_(p, std=0.4)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    speaker = torch.tensor([0, 1, 0, 2, 1, 0, 0])
    x = torch.randn(7, 8, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = enc(x1, batch, speaker)
    ref = torch.cat([original_transformer_encoder(enc, x2[batch == d], speaker[batch == d]) for d in range(3)])
    assert torch.allclose(out, ref, atol=1e-10)
    assert enc.ffn_in.out_features == 8                            # d_ff = hidden in the authors' runs
    w = torch.randn_like(out)
    g1 = torch.autograd.grad((out * w).sum(), [x1] + list(enc.parameters()))
    g2 = torch.autograd.grad((ref * w).sum(), [x2] + list(enc.parameters()))
    assert all(torch.allclose(a, b, atol=1e-9) for a, b in zip(g1, g2))


# -- AMB-DSGDN: calcu_q and the weighted F1 -----------------------------------------------------

def original_calcu_q(performances, q_base, fix_lambda):
    """The authors' calcu_q, line for line, with its ``nn.ReLU(inplace=True)``: the ReLU
    overwrites ``ratios_tensor``, so eq. 23 averages the rectified ratios."""
    performances = torch.tensor(performances, dtype=torch.float64)
    num_mod = len(performances)
    q = torch.zeros(num_mod, dtype=torch.float64)
    relu = torch.nn.ReLU(inplace=True)
    softmax = torch.nn.Softmax(dim=0)
    epsilon = 1e-5
    for i in range(num_mod):
        ratios = []
        for j in range(num_mod):
            if i == j:
                continue
            if performances[j] < epsilon:
                continue
            ratios.append(performances[i] / (performances[j] + epsilon) - 1)
        if ratios:
            ratios_tensor = torch.tensor(ratios, dtype=torch.float64)
            norm_ratios = softmax(relu(ratios_tensor))
            avg_ratio = torch.sum(norm_ratios * ratios_tensor) / len(ratios)
            if avg_ratio > 0:
                q[i] = q_base * (1 + fix_lambda * avg_ratio)
    return torch.clip(q, 0.0, 1.0)


@pytest.mark.parametrize("perf", [[0.55, 0.0, 0.30], [0.6, 0.3, 0.2], [0.5, 0.5, 0.5], [0.2, 0.7],
                                  [0.0, 0.0, 0.4], [0.9, 0.1, 0.85], [0.45, 0.40, 0.38]])
def test_released_rule_is_calcu_q(perf):
    p = torch.tensor(perf, dtype=torch.float64)
    assert torch.allclose(dropout_probabilities(p, 0.3, 0.9, rule="released"), original_calcu_q(perf, 0.3, 0.9),
                          atol=1e-12)


def test_released_rule_is_calcu_q_on_random_f1_triples():
    """3,000 per-modality F1 triples in [0.2, 0.7]: with the signed ratios of eq. 23 (a
    non-in-place ReLU), 30% give some modality q = 0 where calcu_q drops it."""
    g = torch.Generator().manual_seed(0)
    performances = 0.2 + 0.5 * torch.rand(3000, 3, generator=g, dtype=torch.float64)
    ours = torch.stack([dropout_probabilities(p, 0.3, 0.9, rule="released") for p in performances])
    theirs = torch.stack([original_calcu_q(p.tolist(), 0.3, 0.9) for p in performances])
    assert torch.allclose(ours, theirs, atol=1e-12)
    assert ((theirs > 0).sum(1) == 2).float().mean() > 0.99        # all but the weakest are dropped


def test_eq24_literal_drops_working_modalities_the_released_rule_does_not():
    p = torch.tensor([0.55, 0.0, 0.30])
    literal = dropout_probabilities(p, 0.3, 0.9, rule="eq24")
    assert literal[0] == 1.0 and literal[2] == 1.0                 # the collapse
    released = dropout_probabilities(p, 0.3, 0.9, rule="released")
    assert released[1] == 0.0 and released[2] == 0.0 and 0 < released[0] < 1


def test_weighted_f1_is_sklearns():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        y = torch.randint(-1, 5, (60,), generator=g)
        pred = torch.randint(0, 7, (60,), generator=g)
        keep = y >= 0
        expected = f1_score(y[keep].numpy(), pred[keep].numpy(), average="weighted", zero_division=0)
        assert modality_performance(pred, y, 7).item() == pytest.approx(expected, abs=1e-6)


# -- DAG-ERC: the output MLP ------------------------------------------------------------------

def test_dag_erc_output_mlp_is_the_originals():
    model = DAGERC({"text": 6}, 4, DAGERCConfig(hidden=5, num_layers=2, mlp_layers=2, dropout=0.3))
    kinds = [type(m).__name__ for m in model.classifier]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Dropout", "Linear"]
    assert model.classifier[0].in_features == 5 * 3 + 6 and model.classifier[4].p == 0.3


# -- NX-AI sLSTM: the first step ---------------------------------------------------------------

def test_slstm_first_step_with_a_very_negative_input_gate():
    torch.manual_seed(0)
    cell = SLSTMCell(3, 4)
    with torch.no_grad():
        cell.input.bias[4:8] = -110.0                              # i~ far below zero
    x = torch.randn(2, 3, requires_grad=True)
    h, state = cell(x, cell.initial_state(2, x))
    assert torch.isfinite(h).all()
    z, i, f, o = (x.double() @ cell.input.weight.double().t() + cell.input.bias.double()).chunk(4, -1)
    # naive float64 recurrence from zero state: c = e^i tanh z, n = e^i, h = sigma(o) c / n
    assert torch.allclose(h.double(), torch.sigmoid(o) * torch.tanh(z), atol=1e-6)
    h.sum().backward()
    assert torch.isfinite(x.grad).all() and all(torch.isfinite(p.grad).all() for p in cell.parameters())
    h2, _ = cell(x, state)                                         # the next step stays finite too
    assert torch.isfinite(h2).all()
