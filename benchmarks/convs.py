"""Graph layers vs their dense / padded formulations: forward + backward time and peak memory.

* ``DiffRGATConv`` (hidden 256, 2 heads of 128, speaker window 5/5, relations on)
  against the dense formulation with the same parameters, twice: as the paper
  writes it (one head at a time, the relation matrix embedded as
  ``R [B, L, L, d_r]`` and projected, ``[B, L, L]`` scores) and an optimised
  dense version (heads batched, relation scores from a table); and against the
  projection alone (the floor: no attention layer is cheaper than its own
  linear map).
* ``DAGConv`` (hidden 256) against DAG-ERC's padded position-by-position
  computation (as its original code runs: attention over the prefix built so
  far, relation maps re-applied to the whole prefix at every position).

Inputs are prepared outside the timed region on both sides (flat features and
edges for the layers; padded features and dense relation matrices for the
references, as the seed code's collate hands them over).

    python benchmarks/convs.py [--repeat 5] [--threads 1]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch_geometric.utils import to_dense_adj, to_dense_batch

from common import make_batch, peak_memory, peak_memory_here, shapes, time_it

from dialoggraph.graphs import dag_edges, speaker_window_edges
from dialoggraph.nn import DAGConv, DAGSchedule, DiffRGATConv
from dialoggraph.nn.conv.diff_rgat_conv import lambda_init

HIDDEN, HEADS, WINDOW = 256, 2, 5


def conv_shapes() -> dict[str, tuple[list[int], int]]:
    out = dict(list(shapes().items())[:2])
    out["long (4 dlg x 1000)"] = ([1000] * 4, 2)
    return out


def paper_dense_diff_rgat(conv: DiffRGATConv, X, adj, rel):
    """As the paper writes it (Alg. 1, eqs. 9-18): one head at a time, the relation matrix
    embedded as R [B, L, L, d_r] and projected per branch, [B, L, L] scores, heads concatenated."""
    B, L, _ = X.shape
    C, half = conv.out_channels, conv.out_channels // 2
    heads = []
    for h in range(conv.heads):
        wh = X @ conv.lin.weight[h * C:(h + 1) * C].t()                        # eq. 9
        R = conv.relation_emb[h][rel]                                          # [B, L, L, d_r]
        alphas = []
        for b, branch in enumerate((wh[..., :half], wh[..., half:])):         # eqs. 10-12
            e = (branch @ conv.att_left[h, b]).unsqueeze(2) + (branch @ conv.att_right[h, b]).unsqueeze(1) \
                + R @ conv.relation_att[h, b]
            e = F.leaky_relu(e, conv.negative_slope).masked_fill(~adj, float("-inf"))
            alphas.append(torch.nan_to_num(torch.softmax(e, dim=2), nan=0.0))
        lam = conv.lambda_full()[h]
        out = (alphas[0] - lam * alphas[1]) @ wh                               # eqs. 13-17
        out = F.layer_norm(out, (C,)) * conv.norm_weight[h] + conv.norm_bias[h]
        heads.append(out * (1 - lambda_init(conv.depth)))
    return torch.cat(heads, -1) + conv.bias                                    # eq. 18


def dense_diff_rgat(conv: DiffRGATConv, X, adj, rel):
    """An optimised dense version: heads batched, relation scores from a [R, H, 2] table."""
    B, L, _ = X.shape
    H, C = conv.heads, conv.out_channels
    wh = (X @ conv.lin.weight.t()).view(B, L, H, C)
    branches = wh.view(B, L, H, 2, C // 2)
    q = (branches * conv.att_left).sum(-1)                                   # [B, L, H, 2]
    k = (branches * conv.att_right).sum(-1)
    relation_score = torch.einsum("hrd,hbd->rhb", conv.relation_emb, conv.relation_att)
    e = q.unsqueeze(2) + k.unsqueeze(1) + relation_score[rel]                # [B, L, L, H, 2]
    e = F.leaky_relu(e, conv.negative_slope).masked_fill(~adj[..., None, None], float("-inf"))
    a = torch.nan_to_num(torch.softmax(e, dim=2), nan=0.0)
    alpha = a[..., 0] - conv.lambda_full() * a[..., 1]                        # [B, L, L, H]
    out = torch.einsum("bijh,bjhc->bihc", alpha, wh)
    out = F.layer_norm(out, (C,)) * conv.norm_weight + conv.norm_bias
    return (out * (1 - lambda_init(conv.depth))).reshape(B, L, H * C) + conv.bias


def padded_dag(conv: DAGConv, X, adj, s_mask):
    """DAG-ERC's original loop over positions on padded [B, L, C] tensors."""
    B, L, C = X.shape
    zeros = X.new_zeros(B, C)
    H1 = (conv.gru_node(X[:, 0], zeros) + conv.gru_context(zeros, X[:, 0])).unsqueeze(1)
    for i in range(1, L):
        score = conv.attention(torch.cat((H1, X[:, i:i + 1].expand(-1, i, -1)), dim=2)).squeeze(2)
        weight = torch.softmax(score - (1 - adj[:, i, :i]) * 1e30, dim=1)
        s = s_mask[:, i, :i].unsqueeze(2)
        V = conv.relation_same(H1) * s + conv.relation_other(H1) * (1 - s)
        M = torch.bmm(weight.unsqueeze(1), V).squeeze(1)
        H = conv.gru_node(X[:, i], M) + conv.gru_context(M, X[:, i])
        H1 = torch.cat((H1, H.unsqueeze(1)), dim=1)
    return H1


def setup(shape: str):
    """Everything every method needs for one batch shape (built outside the timed region)."""
    torch.manual_seed(0)
    lengths, max_speakers = conv_shapes()[shape]
    speaker, batch = make_batch(lengths, max_speakers, 0)
    n = speaker.numel()
    x = torch.randn(n, HIDDEN, requires_grad=True)
    edge_index, edge_rel = speaker_window_edges(speaker, batch, WINDOW, WINDOW)
    X, _ = to_dense_batch(x.detach(), batch)
    X.requires_grad_()
    adj = to_dense_adj(edge_index, batch, max_num_nodes=X.size(1)).transpose(1, 2) > 0
    rel = to_dense_adj(edge_index, batch, edge_attr=edge_rel, max_num_nodes=X.size(1)).transpose(1, 2).long()
    dag_index, same = dag_edges(speaker, batch)
    dag_adj = to_dense_adj(dag_index, batch, max_num_nodes=X.size(1)).transpose(1, 2)
    s_mask = to_dense_adj(dag_index, batch, edge_attr=same.float(), max_num_nodes=X.size(1)).transpose(1, 2)
    conv = DiffRGATConv(HIDDEN, HIDDEN // HEADS, heads=HEADS)
    dag = DAGConv(HIDDEN)
    schedule = DAGSchedule.build(dag_index, same, batch, n)
    w = torch.randn(n, HIDDEN)
    W = torch.randn(X.shape[:2] + (HIDDEN,))

    def backward(out, weight):
        (out * weight).sum().backward()

    return {
        "DiffRGATConv": lambda: backward(conv(x, edge_index, edge_rel), w),
        "dense, as the paper writes": lambda: backward(paper_dense_diff_rgat(conv, X, adj, rel), W),
        "dense, heads batched": lambda: backward(dense_diff_rgat(conv, X, adj, rel), W),
        "projection only (floor)": lambda: backward(conv.lin(x), w),
        "DAGConv": lambda: backward(dag(x, dag_index, same, batch, schedule=schedule), w),
        "padded DAG-ERC loop": lambda: backward(padded_dag(dag, X, dag_adj, s_mask), W),
    }, len(lengths), n, edge_index.size(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory-of", nargs=2, metavar=("SHAPE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_of:
        shape, method = args.memory_of
        methods, *_ = setup(shape)
        print(peak_memory_here(methods[method]))
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeat}, forward + backward; "
          f"hidden {HIDDEN}, {HEADS} heads, window {WINDOW}/{WINDOW}\n")
    header = f"{'batch':42} {'method':26} {'time ms':>10} {'vs layer':>9} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for shape in conv_shapes():
        methods, dialogues, nodes, edges = setup(shape)
        skip = {"padded DAG-ERC loop", "DAGConv"} if shape.startswith("long") else set()
        times = {m: time_it(fn, repeat=args.repeat) for m, fn in methods.items() if m not in skip}
        for method, seconds in times.items():
            layer = "DAGConv" if "DAG" in method else "DiffRGATConv"
            ratio = times[layer] / seconds if method != layer else None
            memory = peak_memory(__file__, shape, method)
            print(f"{shape:42} {method:26} {seconds * 1e3:10.2f} "
                  f"{'' if ratio is None else f'{1 / ratio:8.1f}x':>9} "
                  f"{'n/a' if memory is None else f'{memory / 2**20:9.1f}':>9}")
        print(f"{'':42} ({dialogues} dialogues, {nodes} utterances, {edges} window edges)")
    print("\n'vs layer': the method's time over the dialoggraph layer's (> 1: the layer is faster).")


if __name__ == "__main__":
    main()
