"""Training and inference steps of AMB-DSGDN and DAG-ERC against the authors' code, side by side.

The authors' code is not fetched at run time: clone it once and give the folders.

    git clone https://github.com/wys-ljq/AMB-DSGDN /tmp/AMB-DSGDN
    git clone https://github.com/shenwzh3/DAG-ERC /tmp/DAG-ERC
    python benchmarks/vs_original.py --amb-dsgdn /tmp/AMB-DSGDN --dag-erc /tmp/DAG-ERC [--rounds 15] \\
        [--threads 2] [--device cpu|cuda] [--precision 32|bf16] [--compile] [--memory]

What runs, per model and shape:

* **The authors' model**, their ``model.py`` imported as it is. Its inputs are built from the same
  batch:
  * AMB-DSGDN: padded sequence-first features, ``qmask``, ``umask``, and the dense ``L x L``
    self/cross relation matrices its data loader makes (relation ids 1-5 from our edges);
  * DAG-ERC: ``adj`` and ``s_mask`` from our DAG edges.
  AMB-DSGDN's ``Modality_drop`` takes a device argument; it is given the benchmark's device.
  DAG-ERC's ``model.py`` imports a name current ``transformers`` no longer has (for its BERT
  variant): the import sees placeholders for those names. Nothing else is changed. Their optimizers: Adam (AMB-DSGDN's ``train.py``) and AdamW (DAG-ERC's
  ``run.py``). Their losses: NLL of the fused log-probabilities plus eq. 33's weighted
  per-modality terms (AMB-DSGDN); cross-entropy (DAG-ERC).
* **dialoggraph's model** at the paper's sizes (``--preset paper``: AMB-DSGDN hidden 512, 2 graph
  heads, 8 Transformer heads; DAG-ERC hidden 300, 4 layers), with the optimizer the
  :class:`~dialoggraph.train.Trainer` builds, the trainer's loss, and the graphs built once
  beforehand, as a dataset's ``pre_transform`` does.
* **The floor**: the step's unavoidable dense work at the same sizes, every projection and
  feed-forward matmul of the model on the batch's utterances, forward and backward (AMB-DSGDN:
  the input projections, the Transformer's QKV / output / FFN, the DiffRGAT blocks' linear maps;
  DAG-ERC: the input projection, the GRU cells' gate matmuls, the attention and relation maps,
  the MLP).
* **DAG-ERC's walk floor**: the same matmuls, but those the recurrence forces into the walk (the
  gates that read the messages; the relation maps and key score of the states a level makes)
  applied level by level to each topological level's rows, as any implementation of the
  recurrence must, the authors' included. Printed beside the rows as ``ours / walk floor`` and
  ``theirs / walk floor``: the second bounds how much faster than the authors' code any
  float32 implementation of the recurrence can be on the same machine.

Both sides use the same parameter counts (printed: the parameters a training step gives a gradient)
and the same batches. A training
step is forward, loss, backward, gradient clipping at 5, optimizer step. An inference step is a
no-grad forward in eval mode. Steps are interleaved (ours, theirs, floor, ours, ...) so the
load of a shared machine hits all alike; the median of ``--rounds`` is reported after a warm-up.
``--compile`` adds our model under ``torch.compile`` (default inductor backend) as a fourth step of
each round, on the same model and batch as the eager one, so the two are compared in one run.
``--memory`` adds the peak memory of one training step: on CUDA ``max_memory_allocated``; on CPU
the growth of the resident set's high-water mark in a fresh process (``common.peak_memory``).

Shapes: MELD (16 dialogues of 1-24 utterances, up to 9 speakers, ~160 utterances), IEMOCAP
(16 x 30-66, 2 speakers, ~770 utterances) and long (4 x 500, 2 speakers).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch_geometric.data import Batch

from common import TRANSFORMERS_PLACEHOLDERS, load_module, peak_memory, peak_memory_here
from dialoggraph.data.dialogue import DAG, INTER, INTRA, NODE
from dialoggraph.data.padding import to_padded
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.graphs.relation import Relation
from dialoggraph.models import AMBDSGDN, DAGERC
from dialoggraph.nn.conv.dag_conv import DAGSchedule
from dialoggraph.train.trainer import TrainConfig, make_optimizer, resolve_optimizer, training_loss

SHAPES = {"MELD": dict(num=16, min_len=1, max_len=24, speakers=9, audio=300),
          "IEMOCAP": dict(num=16, min_len=30, max_len=66, speakers=2, audio=1582),
          "long": dict(num=4, min_len=500, max_len=500, speakers=2, audio=1582)}
# Our Relation -> the authors' relation ids (dataloader.py: 1 self, 2 intra past, 3 intra future,
# 4 inter future, 5 inter past; 0 no edge).
AUTHORS_RELATION = {Relation.SELF: 1, Relation.INTRA_PAST: 2, Relation.INTRA_FUTURE: 3,
                    Relation.INTER_FUTURE: 4, Relation.INTER_PAST: 5}


def dialogues(shape: str, transform, dims: dict[str, int], seed: int = 0) -> Batch:
    s = SHAPES[shape]
    data = SyntheticDialogues(s["num"], "train", seed=seed, min_len=s["min_len"], max_len=s["max_len"],
                              max_speakers=s["speakers"], dims=dims, pre_transform=transform)
    return Batch.from_data_list(list(data))


def dense_relations(batch: Batch, store, length: int) -> torch.Tensor:
    """``[B, L, L]`` authors' relation ids of an edge store (row = target, column = source)."""
    n = batch[NODE].num_nodes
    ptr = batch[NODE].ptr
    node_batch = batch[NODE].batch
    position = torch.arange(n) - ptr[node_batch]
    src, dst = batch[store].edge_index
    table = torch.zeros(int(Relation.INTER_FUTURE) + 1, dtype=torch.long)
    for r, v in AUTHORS_RELATION.items():
        table[int(r)] = v
    adj = torch.zeros(batch.num_graphs, length, length, dtype=torch.long)
    adj[node_batch[dst], position[dst], position[src]] = table[batch[store].edge_rel]
    return adj


# -- AMB-DSGDN --------------------------------------------------------------------------------


def amb_inputs(batch: Batch, n_speakers: int) -> dict:
    """``Transformer_Based_Model.forward``'s inputs for a batch: padded sequence-first features,
    ``u_mask``, one-hot ``qmask``, lengths and the dense relation matrices of our subgraphs."""
    padded = {m: to_padded(batch[NODE][f"x_{m}"], batch[NODE].batch)[0].transpose(0, 1).contiguous()
              for m in ("text", "audio", "visual")}
    speaker, mask = to_padded(batch[NODE].speaker, batch[NODE].batch)
    length = mask.size(1)
    return dict(textf=padded["text"], visuf=padded["visual"], acouf=padded["audio"], u_mask=mask.to(padded["text"].dtype),
                qmask=F.one_hot(speaker, n_speakers).to(padded["text"].dtype),   # train.py permutes it to [B, L, S]
                dia_len=mask.sum(1).tolist(), Self_semantic_adj=dense_relations(batch, INTRA, length),
                Cross_semantic_adj=dense_relations(batch, INTER, length),
                Semantic_adj=torch.zeros(batch.num_graphs, length, length, dtype=torch.long))


def amb_pair(folder: str, shape: str, device: str):
    dims = {"text": 1024, "audio": SHAPES[shape]["audio"], "visual": 342}
    config = AMBDSGDN.preset("paper")
    batch = dialogues(shape, AMBDSGDN.required_transform(config), dims)
    ours = AMBDSGDN(dims, 7, config)
    model_py = load_module(folder, "model")
    n_speakers = 9 if SHAPES[shape]["speakers"] > 2 else 2
    theirs = model_py.Transformer_Based_Model("MELD" if n_speakers == 9 else "IEMOCAP", dims["text"], dims["visual"],
                                              dims["audio"], config.heads, 7, config.hidden, n_speakers,
                                              config.dropout)
    theirs.modality_drop.device = device
    y, _ = to_padded(batch[NODE].y, batch[NODE].batch, fill_value=-1)
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in amb_inputs(batch, n_speakers).items()}
    y = y.to(device)

    def their_loss(model):
        subs, log_prob, _, _, _ = model(**inputs, warm_up=1)
        keep = y >= 0
        loss = F.nll_loss(log_prob[keep], y[keep])
        for sub in subs:                                            # train.py: loss * (loss / 10) per modality
            part = F.nll_loss(sub[keep], y[keep])
            loss = loss + part * (part / 10)
        return loss
    return ours, batch, theirs, their_loss, lambda model: model(**inputs, warm_up=1)


def amb_floor(ours: AMBDSGDN, batch: Batch):
    """The matmuls of AMB-DSGDN at its sizes: per modality the input projection, the Transformer's
    QKV / output / feed-forward (audio and visual), and in each DiffRGAT block its heads layer,
    output layer and linear map; on the batch's utterances, no attention, no graph."""
    weights = []
    for m in ours.modalities:
        weights.append(ours.projection[m].weight)
        if m in ours.encoder:
            e = ours.encoder[m]
            weights += [e.attention.in_proj_weight, e.attention.out_proj.weight, e.ffn_in.weight, e.ffn_out.weight]
        for block in (ours.inter[m], ours.intra[m]):
            weights += [block.heads_layer.lin.weight, block.out_layer.lin.weight, block.linear.weight]
    return DenseFloor(weights, {m: batch[NODE][f"x_{m}"] for m in ours.modalities})


# -- DAG-ERC ----------------------------------------------------------------------------------


def dag_inputs(batch: Batch) -> dict[str, torch.Tensor]:
    """``DAGERC_fushion.forward``'s inputs for a batch: padded features, ``adj`` from our DAG edges
    (row = target), ``s_mask`` (same speaker) and its one-hot, the lengths."""
    features, mask = to_padded(batch[NODE].x_text, batch[NODE].batch)
    speaker, _ = to_padded(batch[NODE].speaker, batch[NODE].batch, fill_value=-1)
    b, length = mask.shape
    position = torch.arange(batch[NODE].num_nodes) - batch[NODE].ptr[batch[NODE].batch]
    src, dst = batch[DAG].edge_index
    adj = torch.zeros(b, length, length, dtype=features.dtype)
    adj[batch[NODE].batch[dst], position[dst], position[src]] = 1.0
    s_mask = (speaker.unsqueeze(2) == speaker.unsqueeze(1)) & mask.unsqueeze(2) & mask.unsqueeze(1)
    return dict(features=features, adj=adj, s_mask=s_mask.long(),
                s_mask_onehot=F.one_hot(s_mask.long(), 2).to(features.dtype), lengths=mask.sum(1))


def dag_authors_args(config, in_dim: int) -> SimpleNamespace:
    """The ``args`` of the authors' ``run.py`` for a DAG-ERC config (``rgcn`` attention, no nodal attention)."""
    return SimpleNamespace(dropout=config.dropout, gnn_layers=config.num_layers, no_rel_attn=False, attn_type="rgcn",
                           hidden_dim=config.hidden, emb_dim=in_dim, nodal_att_type=None,
                           mlp_layers=config.mlp_layers)


def dag_pair(folder: str, shape: str, device: str):
    dims = {"text": 1024}
    config = DAGERC.preset("paper")
    batch = dialogues(shape, DAGERC.required_transform(config), dims)
    ours = DAGERC(dims, 7, config)
    model_py = load_module(folder, "model", TRANSFORMERS_PLACEHOLDERS)
    theirs = model_py.DAGERC_fushion(dag_authors_args(config, dims["text"]), 7)
    y, _ = to_padded(batch[NODE].y, batch[NODE].batch, fill_value=-1)
    inputs = {k: v.to(device) for k, v in dag_inputs(batch).items()}
    y = y.to(device)
    return ours, batch, theirs, lambda model: F.cross_entropy(model(**inputs).permute(0, 2, 1), y, ignore_index=-1), \
        lambda model: model(**inputs)


def dag_floor(ours: DAGERC, batch: Batch, walk: bool = False):
    """The matmuls of DAG-ERC at its sizes: the input projection; per layer the attention and
    relation maps and both GRU cells' input and hidden gate matmuls; the output MLP.

    ``walk``: the floor that the recurrence allows. The maps that read a state made in the same
    layer (the gates that read the messages; the relation maps and key score of the states) are
    applied level by level, to each topological level's rows, as any implementation of the walk
    must; the others once to all utterances. Weight gradients are one matmul over all levels
    (:class:`LevelMatmuls`)."""
    weights, walked = [ours.input.weight], []
    for layer in ours.layers:
        if not walk:
            weights += [p for p in layer.parameters() if p.dim() == 2]
            continue
        key, query = layer.attention.weight.split(layer.channels, dim=1)
        weights += [layer.gru_node.weight_ih, layer.gru_context.weight_hh, query]
        walked += [torch.cat([layer.gru_node.weight_hh, layer.gru_context.weight_ih]),
                   torch.cat([layer.relation_same.weight, layer.relation_other.weight, key])]
    weights += [m.weight for m in ours.classifier if isinstance(m, torch.nn.Linear)]
    features = {"text": batch[NODE].x_text}
    if not walk:
        return DenseFloor(weights, features)
    schedule = DAGSchedule.build(batch[DAG].edge_index, batch[DAG].same_speaker, batch[NODE].batch,
                                 batch[NODE].num_nodes)
    message_levels = [rows for rows, reach in zip(schedule.level_sizes, schedule.window_sizes) if reach]
    levels = [message_levels, schedule.level_sizes] * len(ours.layers)   # message gates; relation maps
    return DenseFloor(weights, features, walked=walked, levels=levels)


# -- the floor and the timing -------------------------------------------------------------------


class LevelMatmuls(torch.autograd.Function):
    r"""The walk floor's per-level matmuls: each block of ``sizes`` rows of ``x`` times
    :math:`\mathbf{W}^\top`, one matmul per block forward and backward, and the weight's
    gradient one matmul over all blocks, as ``DAGWalk`` computes them. Each direction reads the
    weight in the layout that is fastest for a few rows: an in-major copy forward, as stored
    backward (at 4-16 rows, ``x @ W.t()`` on the stored weight took 1.4-1.7x as long on one
    thread and 3.9-6.9x on two, measured).
    The backward computes in the gradient's dtype (bf16 under autocast)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.sizes = sizes
        w = weight.t().contiguous()
        return torch.cat([block @ w for block in x.split(sizes)])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        w = weight.to(grad.dtype)
        grad_x = torch.cat([block @ w for block in grad.split(ctx.sizes)])
        return grad_x, grad.t() @ x.to(grad.dtype), None


class DenseFloor(torch.nn.Module):
    """The dense work of a step: each weight ``[out, in]`` applied once to ``N`` rows. Where
    ``in`` is a feature width the rows are the batch's features (no gradient, as for data);
    otherwise an ``[N, in]`` activation that does need its gradient, as a hidden layer's does.
    Each of the ``walked`` weights is applied instead to consecutive blocks of such rows, one
    matmul per block of its ``levels`` sizes. Its loss is the sum of the outputs."""

    def __init__(self, weights, features: dict[str, torch.Tensor], walked=(), levels=()):
        super().__init__()
        self.weights = torch.nn.ParameterList(torch.nn.Parameter(w.detach().clone()) for w in weights)
        self.walked = torch.nn.ParameterList(torch.nn.Parameter(w.detach().clone()) for w in walked)
        self.levels = list(levels)
        self.features = features
        n = next(iter(features.values())).size(0)
        widths = {w.size(1) for w in [*weights, *walked]} - {x.size(1) for x in features.values()}
        self.activations = [torch.randn(n, d, requires_grad=True) for d in sorted(widths)]   # not optimised

    def to_device(self, device: str) -> "DenseFloor":
        self.to(device)
        self.features = {k: v.to(device) for k, v in self.features.items()}
        self.activations = [a.detach().to(device).requires_grad_() for a in self.activations]
        return self

    def forward(self) -> torch.Tensor:
        rows = {x.size(1): x for x in self.activations} | {x.size(1): x for x in self.features.values()}
        total = sum((rows[w.size(1)] @ w.t()).sum() for w in self.weights)
        for w, sizes in zip(self.walked, self.levels):
            total = total + LevelMatmuls.apply(rows[w.size(1)][:sum(sizes)], w, sizes).sum()
        return total


def parameter_count(model: torch.nn.Module) -> int:
    """Parameters the last training step gave a gradient: those the forward uses (DAG-ERC's
    ``DAGERC_fushion`` also holds layers its forward never calls at these settings)."""
    return sum(p.numel() for p in model.parameters() if p.grad is not None)


def train_step(model, loss_of, optimizer, autocast=contextlib.nullcontext) -> None:
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast():                      # the forward pass only, as PyTorch's AMP recipe has it
        loss = loss_of(model)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()


def median_seconds(steps: dict, rounds: int, device: str) -> dict[str, float]:
    """Interleaved timing: each round runs every step once, in turn; medians per step."""
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for step in steps.values():                                       # warm-up
        step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            sync()
            start = time.perf_counter()
            step()
            sync()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def build(model_name: str, folder: str, shape: str, device: str, precision: str, compiled: bool):
    pair, floor = (amb_pair, amb_floor) if model_name == "AMB-DSGDN" else (dag_pair, dag_floor)
    ours, batch, theirs, their_loss, their_forward = pair(folder, shape, device)
    floor_model = floor(ours, batch).to_device(device)
    walk_model = dag_floor(ours, batch, walk=True).to_device(device) if model_name == "DAG-ERC" else None
    ours, theirs, batch = ours.to(device), theirs.to(device), batch.to(device)
    config = resolve_optimizer(TrainConfig(device=device), type(ours))
    our_optimizer = make_optimizer(ours, config)
    their_optimizer = (torch.optim.Adam if model_name == "AMB-DSGDN" else torch.optim.AdamW)(
        theirs.parameters(), lr=config.lr)
    floor_optimizer = make_optimizer(floor_model, config)
    walk_optimizer = make_optimizer(walk_model, config) if walk_model is not None else None
    runner = torch.compile(ours) if compiled else None
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def autocast():
        return torch.autocast(torch.device(device).type, dtype=dtype) if dtype else contextlib.nullcontext()

    def ours_train():
        train_step(ours, lambda m: training_loss(m(batch), batch[NODE].y), our_optimizer, autocast)

    def compiled_train():
        train_step(ours, lambda m: training_loss(runner(batch), batch[NODE].y), our_optimizer, autocast)

    def theirs_train():
        train_step(theirs, their_loss, their_optimizer)

    def floor_train():
        train_step(floor_model, lambda m: m(), floor_optimizer, autocast)

    def walk_train():
        train_step(walk_model, lambda m: m(), walk_optimizer, autocast)

    @torch.no_grad()
    def walk_infer():
        walk_model.eval()
        with autocast():
            walk_model()

    @torch.no_grad()
    def ours_infer():
        ours.eval()
        with autocast():
            ours(batch)

    @torch.no_grad()
    def compiled_infer():
        ours.eval()
        with autocast():
            runner(batch)

    @torch.no_grad()
    def theirs_infer():
        theirs.eval()
        their_forward(theirs)

    @torch.no_grad()
    def floor_infer():
        floor_model.eval()
        with autocast():
            floor_model()
    ours_train(), theirs_train()
    counts = {"ours": parameter_count(ours), "theirs": parameter_count(theirs),
              "floor": sum(w.numel() for w in floor_model.weights)}
    steps = {"train": {"ours": ours_train, "theirs": theirs_train, "floor": floor_train},
             "infer": {"ours": ours_infer, "theirs": theirs_infer, "floor": floor_infer}}
    if walk_model is not None:
        steps["train"]["walk"], steps["infer"]["walk"] = walk_train, walk_infer
    if compiled:                      # beside eager, on the same model and batch
        steps["train"]["compiled"], steps["infer"]["compiled"] = compiled_train, compiled_infer
    return counts, int(batch[NODE].num_nodes), steps


def memory_of(args, model_name: str, shape: str, side: str) -> int:
    """Peak memory of one training step of one side (run in a fresh process on CPU)."""
    _, _, steps = build(model_name, args.amb_dsgdn if model_name == "AMB-DSGDN" else args.dag_erc, shape,
                        args.device, args.precision, False)
    step = steps["train"][side]
    step()
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    return peak_memory_here(step)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--amb-dsgdn", help="a checkout of github wys-ljq/AMB-DSGDN")
    p.add_argument("--dag-erc", help="a checkout of github shenwzh3/DAG-ERC")
    p.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="32", choices=["32", "bf16", "fp16"], help="ours and the floor only")
    p.add_argument("--compile", action="store_true",
                   help="also time our model under torch.compile, interleaved with the eager one")
    p.add_argument("--memory", action="store_true", help="also the peak memory of a training step")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--memory-of", nargs=3, metavar=("MODEL", "SHAPE", "SIDE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.memory_of:
        print(memory_of(args, *args.memory_of))
        return
    models = [(name, folder) for name, folder in (("AMB-DSGDN", args.amb_dsgdn), ("DAG-ERC", args.dag_erc)) if folder]
    if not models:
        p.error("give --amb-dsgdn and/or --dag-erc (checkouts of the authors' code)")
    results = []
    print(f"device {args.device}, {args.threads} threads, precision {args.precision}, compile {args.compile}, "
          f"median of {args.rounds} interleaved steps; ratios are theirs / ours and ours / floor")
    print("| model | shape | utterances | params ours / theirs | step | ours ms | theirs ms | floor ms | "
          "theirs / ours | ours / floor |")
    print("| --- | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, folder in models:
        for shape in args.shapes:
            counts, utterances, steps = build(name, folder, shape, args.device, args.precision, args.compile)
            for kind in ("train", "infer"):
                t = median_seconds(steps[kind], args.rounds, args.device)
                row = {"model": name, "shape": shape, "utterances": utterances, "step": kind, "params": counts,
                       **{f"{k}_ms": 1000 * v for k, v in t.items()},
                       "theirs_over_ours": t["theirs"] / t["ours"], "ours_over_floor": t["ours"] / t["floor"]}
                if "walk" in t:
                    row |= {"ours_over_walk": t["ours"] / t["walk"], "theirs_over_walk": t["theirs"] / t["walk"]}
                if "compiled" in t:
                    row |= {"eager_over_compiled": t["ours"] / t["compiled"],
                            "compiled_over_floor": t["compiled"] / t["floor"]}
                if args.memory and kind == "train":
                    for side in ("ours", "theirs"):
                        if args.device.startswith("cuda"):
                            row[f"{side}_peak_mib"] = memory_of(args, name, shape, side) / 2 ** 20
                        else:
                            extra = ["--threads", str(args.threads), "--device", args.device, "--precision",
                                     args.precision, "--amb-dsgdn", args.amb_dsgdn or "", "--dag-erc",
                                     args.dag_erc or ""]
                            value = peak_memory(__file__, name, shape, side, options=tuple(extra))
                            row[f"{side}_peak_mib"] = None if value is None else value / 2 ** 20
                results.append(row)
                notes = (f" (peak MiB ours {row['ours_peak_mib']:.0f}, theirs {row['theirs_peak_mib']:.0f})"
                         if row.get("ours_peak_mib") is not None else "")
                if "walk" in t:
                    notes += (f" (walk floor {row['walk_ms']:.1f} ms: ours / walk floor {row['ours_over_walk']:.2f}x, "
                              f"theirs / walk floor {row['theirs_over_walk']:.2f}x)")
                if "compiled" in t:
                    notes += (f" (compiled {row['compiled_ms']:.1f} ms: eager / compiled "
                              f"{row['eager_over_compiled']:.2f}x, compiled / floor {row['compiled_over_floor']:.2f}x)")
                print(f"| {name} | {shape} | {utterances} | {counts['ours'] / 1e6:.2f} M / {counts['theirs'] / 1e6:.2f} M "
                      f"| {kind} | {row['ours_ms']:.1f} | {row['theirs_ms']:.1f} | {row['floor_ms']:.1f} | "
                      f"{row['theirs_over_ours']:.2f}x | {row['ours_over_floor']:.2f}x |{notes}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
