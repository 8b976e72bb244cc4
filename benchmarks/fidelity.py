"""dialoggraph's blocks against the authors' released modules, run as they are, in float64.

    python benchmarks/fidelity.py --authors DIR [--markdown OUT.md]

``DIR`` holds checkouts of the authors' repositories, each in a folder named as the repository:

    DIR/AMB-DSGDN          github wys-ljq/AMB-DSGDN            (model.py)
    DIR/MultiEMO-ACL2023   github TaoShi1998/MultiEMO-ACL2023  (Model/MultiAttn.py)
    DIR/DAG-ERC            github shenwzh3/DAG-ERC             (model.py)
    DIR/xlstm              github NX-AI/xlstm                  (the vanilla sLSTM step, the mLSTM backends)
    DIR/DialogueCRN        github zerohd4869/DialogueCRN       (code/model.py: the retrieval)
    DIR/vision-lstm        github NX-AI/vision-lstm            (vision_lstm/vision_lstm.py: the ViL block)
    DIR/MFCRE              github rhoqwomda/MFCRE              (Model/DialogueCRN.py, Model/model.py, Loss/*.py)

e.g. ``git clone https://github.com/wys-ljq/AMB-DSGDN DIR/AMB-DSGDN``. A missing checkout makes
its rows "no checkout". Each authors' file is imported from its path as it is: nothing of theirs
is copied into dialoggraph. The only changes are made at run time, around the import and the
calls: ``Tensor.cuda`` / ``Module.cuda`` return their input (the released code calls ``.cuda()``
unconditionally in places), and nothing else, except for MFCRE, whose release cannot run as it is
published: there the rows run its modules with the readings dialoggraph states, applied around
them here (``ViLCellReading`` in place of the ``ViLBlock`` its ``ReasonModule`` constructs, built
on NX-AI's own ``ViLBlock``; its ``simam_module`` given each query as ``[1, 1, n]``; its
``MultiAttn.py``, which does not parse, replaced by MultiEMO's, compared above). The vision-lstm
code needs ``einops`` installed.

Per block, the authors' module and dialoggraph's are given the same weights (the mapping is in
this file: ``copy_*``), run in float64 in evaluation mode on the same random dialogue, and
compared: the largest absolute difference of the outputs and of every gradient (inputs and
parameters, through a random linear read-out). A block passes within float64 rounding
(``TOLERANCE``). Rules that are functions (``calcu_q``) are compared on many random inputs.
Initialisations are compared by their distributions (standard deviation and bound), since the
draws differ. One table is printed (and written as Markdown with ``--markdown``).

The CI tests keep independent ports of these modules (tests/fidelity/test_authors_code.py): CI
has no network to fetch the authors' code. tests/fidelity/test_against_authors_checkouts.py runs
this comparison when ``DIALOGGRAPH_AUTHORS_CODE`` names such a folder.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import torch
from torch_geometric.utils import to_dense_adj

from torch_geometric.data import Batch

from common import TORCH_SCATTER, TRANSFORMERS_PLACEHOLDERS, load_module
from dialoggraph.data.dialogue import NODE
from dialoggraph.data.padding import to_padded
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.graphs import speaker_window_edges
from dialoggraph.graphs.relation import Relation
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig, DAGERC, DAGERCConfig
from dialoggraph.nn import DiffRGATBlock, DiffRGATConv
from dialoggraph.nn.fusion import MultiAttn, dropout_probabilities
from dialoggraph.nn.fusion import ModalityEncoder
from dialoggraph.nn.losses import SampleWeightedFocalContrastiveLoss, SoftHGRLoss
from dialoggraph.nn.seq import DialogueCRN, DialogueTransformerEncoder, MLSTMCell, SLSTMCell, ViLBlock, memory_retrieval
from vs_original import AUTHORS_RELATION, amb_inputs, dag_authors_args, dag_inputs

#: A block passes when outputs and gradients agree to this (float64 rounding, summed over a dialogue).
TOLERANCE = 1e-9
MODALITIES = ("text", "audio", "visual")


@dataclass
class Row:
    block: str
    authors: str
    forward: float | None = None
    gradient: float | None = None
    note: str = ""
    deviation: float | None = None
    """For a distribution: the largest relative deviation of a statistic (passes below 5%)."""

    @property
    def status(self) -> str:
        if self.note.startswith("no checkout"):
            return "not run"
        if self.deviation is not None:
            return "same distribution" if self.deviation < 0.05 else "DIFFERS"
        worst = max(v for v in (self.forward, self.gradient) if v is not None)
        return "equal" if worst <= TOLERANCE else "DIFFERS"


def largest_difference(ours, theirs, inputs_ours, inputs_theirs, params_ours, params_theirs) -> tuple[float, float]:
    """Forward and gradient differences through one random read-out ``sum(out * w)``."""
    forward = (ours - theirs).abs().max().item()
    w = torch.randn_like(ours)
    g_ours = torch.autograd.grad((ours * w).sum(), inputs_ours + params_ours, allow_unused=True)
    g_theirs = torch.autograd.grad((theirs * w).sum(), inputs_theirs + params_theirs, allow_unused=True)
    gradient = 0.0
    for a, b in zip(g_ours, g_theirs):
        a = torch.zeros(()) if a is None else a
        b = torch.zeros(()) if b is None else b
        gradient = max(gradient, (a - b).abs().max().item())
    return forward, gradient


def randomise(module: torch.nn.Module, seed: int, std: float = 0.3) -> None:
    """Move every parameter off its initial value (LayerNorms at 1 / 0 would hide a swap)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * std)


def dialogue(seed: int, length: int, channels: int, speakers: int = 3):
    g = torch.Generator().manual_seed(seed)
    speaker = torch.randint(0, speakers, (length,), generator=g)
    x = torch.randn(length, channels, generator=g, dtype=torch.float64)
    return x, speaker


# -- AMB-DSGDN (github wys-ljq/AMB-DSGDN, model.py) --------------------------------------------

def copy_diff_attention_layer(theirs, conv: DiffRGATConv, head: int) -> None:
    """Head ``head`` of our layer into the authors' DiffGraphAttentionLayer."""
    C = conv.out_channels
    with torch.no_grad():
        theirs.W.copy_(conv.lin.weight[head * C:(head + 1) * C].t())
        for b, branch in enumerate(("pos", "neg")):
            getattr(theirs, f"a_left_{branch}").weight.copy_(conv.att_left[head, b].unsqueeze(0))
            getattr(theirs, f"a_right_{branch}").weight.copy_(conv.att_right[head, b].unsqueeze(0))
            getattr(theirs, f"a_rel_{branch}").weight.copy_(conv.relation_att[head, b].unsqueeze(0))
        for relation, row in AUTHORS_RELATION.items():                     # row 0: no edge (masked)
            theirs.relation_embedding.weight[row].copy_(conv.relation_emb[head, int(relation)])
        for i, name in enumerate(("lambda_left1", "lambda_right1", "lambda_left2", "lambda_right2")):
            getattr(theirs, name).copy_(conv.lambdas[head, i])
        theirs.layer_norm.weight.copy_(conv.norm_weight[head])
        theirs.layer_norm.bias.copy_(conv.norm_bias[head])


def amb_dsgdn_diff_rgcn(module) -> Row:
    """DiffRGCN(d, d, nheads=2) against DiffRGATBlock(d, heads=2) on one dialogue's dense relations.

    The authors compute lambda_1, lambda_2 in float32 (``torch.exp(...float()).type_as(Wh)``), so
    with random lambda vectors the two agree to float32 rounding of lambda_full only; the row
    compares with lambda vectors of zero (lambda_full = lambda_init exactly in both) and reports
    the random-lambda difference in its note."""
    d, heads = 8, 2

    def run(zero_lambdas: bool):
        torch.manual_seed(0)
        ours = DiffRGATBlock(d, heads=heads).double().eval()
        randomise(ours, 1)
        if zero_lambdas:
            with torch.no_grad():
                ours.heads_layer.lambdas.zero_()
                ours.out_layer.lambdas.zero_()
        theirs = module.DiffRGCN(d, d, nheads=heads).double().eval()
        copy_diff_rgcn(theirs, ours)
        x, speaker = dialogue(2, 9, d)
        edge_index, edge_rel = speaker_window_edges(speaker, torch.zeros_like(speaker), 2, 2)
        ids = torch.tensor([AUTHORS_RELATION[Relation(int(r))] for r in edge_rel])
        adj = to_dense_adj(edge_index, edge_attr=ids, max_num_nodes=x.size(0))[0].t().long()  # adj[i, j]: j -> i
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        out = ours(x1, edge_index, edge_rel)
        ref = theirs(x2.unsqueeze(0), adj.unsqueeze(0))[0][0]
        return largest_difference(out, ref, [x1], [x2], [], [])

    forward, gradient = run(zero_lambdas=True)
    random_forward, random_gradient = run(zero_lambdas=False)
    return Row("DiffRGATBlock (eqs. 9-18)", "DiffRGCN", forward, gradient,
               f"inputs' gradients; lambda vectors 0. Random lambda vectors: {random_forward:.1e} / "
               f"{random_gradient:.1e} (theirs computes lambda in float32)")


def copy_diff_rgcn(theirs, ours: DiffRGATBlock) -> None:
    """Our DiffRGATBlock's weights into the authors' DiffRGCN."""
    for k, layer in enumerate(theirs.attentions):
        copy_diff_attention_layer(layer, ours.heads_layer, k)
    copy_diff_attention_layer(theirs.out_att, ours.out_layer, 0)
    theirs.fc.load_state_dict(ours.linear.state_dict())
    theirs.layer_norm.load_state_dict(ours.norm.state_dict())


def copy_amb_dsgdn(theirs, ours: AMBDSGDN) -> None:
    """Our AMB-DSGDN's weights into the authors' Transformer_Based_Model (text, visual, audio)."""
    short = {"text": "t", "audio": "a", "visual": "v"}
    with torch.no_grad():
        for m, name in (("text", "textf"), ("audio", "acouf"), ("visual", "visuf")):
            getattr(theirs, f"{name}_input").load_state_dict(ours.projection[m].state_dict())
            getattr(theirs, f"{short[m]}_output_layer")[2].load_state_dict(ours.head[m][2].state_dict())
            upper = short[m].upper()
            copy_diff_rgcn(getattr(theirs, f"gat{upper}er"), ours.inter[m])      # inter-speaker first
            copy_diff_rgcn(getattr(theirs, f"gat{upper}"), ours.intra[m])
        for m in ("audio", "visual"):
            copy_transformer_encoder(getattr(theirs, f"{short[m]}_{short[m]}"), ours.encoder[m])
            getattr(theirs, f"{short[m]}gate").gate[0].load_state_dict(ours.gate[m].linear.state_dict())
        speakers = ours.encoder["audio"].speaker.weight
        theirs.speaker_embeddings.weight[:speakers.size(0)].copy_(speakers)


def amb_dsgdn_whole_model(module) -> Row:
    """Transformer_Based_Model against AMBDSGDN (text, audio, visual; 3 dialogues, MELD's 9 speakers),
    evaluation mode: summed logits, and the gradients of every modality's inputs; lambda vectors 0
    (see :func:`amb_dsgdn_diff_rgcn`), the random-lambda difference in the note."""

    def run(zero_lambdas: bool):
        torch.manual_seed(0)
        dims = {"text": 6, "audio": 5, "visual": 4}
        config = AMBDSGDNConfig(hidden=8, heads=2, graph_heads=2, window=2, num_speakers=10)
        data = SyntheticDialogues(3, "train", seed=4, min_len=3, max_len=8, max_speakers=3, dims=dims,
                                  pre_transform=AMBDSGDN.required_transform(config))
        batch = Batch.from_data_list(list(data))
        ours = AMBDSGDN(dims, 5, config).double().eval()
        randomise(ours, 8)
        if zero_lambdas:
            with torch.no_grad():
                for conv in ours.modules():
                    if isinstance(conv, DiffRGATConv):
                        conv.lambdas.zero_()
        theirs = module.Transformer_Based_Model("MELD", dims["text"], dims["visual"], dims["audio"], config.heads, 5,
                                                config.hidden, 9, 0.0).double().eval()
        copy_amb_dsgdn(theirs, ours)
        ours_inputs, theirs_inputs = [], []
        for m in dims:
            x = batch[NODE][f"x_{m}"].double()
            batch[NODE][f"x_{m}"] = x.clone().requires_grad_()
            ours_inputs.append(batch[NODE][f"x_{m}"])
            theirs_inputs.append(x.clone().requires_grad_())
            batch[NODE][f"theirs_{m}"] = theirs_inputs[-1]
        out = ours(batch).logits
        authors_batch = batch.clone()
        for m in dims:
            authors_batch[NODE][f"x_{m}"] = batch[NODE][f"theirs_{m}"]
        inputs = amb_inputs(authors_batch, 9)
        _, mask = to_padded(batch[NODE].speaker, batch[NODE].batch)
        ref = theirs(**inputs)[3][mask]
        return largest_difference(out, ref, ours_inputs, theirs_inputs, [], [])

    forward, gradient = run(zero_lambdas=True)
    random_forward, random_gradient = run(zero_lambdas=False)
    return Row("AMBDSGDN (whole model, eval)", "Transformer_Based_Model", forward, gradient,
               "3 dialogues, tri-modal; summed logits (eq. 29), every modality's inputs' gradients; lambda "
               f"vectors 0. Random lambda vectors: {random_forward:.1e} / {random_gradient:.1e}")


def amb_dsgdn_init(module) -> Row:
    """Initial weights' distribution: DiffRGATConv against DiffGraphAttentionLayer (width 512)."""
    torch.manual_seed(0)
    ours = DiffRGATConv(512, 512, heads=1)
    stds = {"W": [], "a": []}
    for _ in range(3):
        layer = module.DiffGraphAttentionLayer(512, 512, dropout=0.0, alpha=0.2)
        stds["W"].append(layer.W.std().item())
        stds["a"].append(torch.cat([layer.a_left_pos.weight, layer.a_right_neg.weight]).std().item())
    ratio_w = ours.lin.weight.std().item() / (sum(stds["W"]) / 3)
    ratio_a = torch.cat([ours.att_left.flatten(), ours.att_right.flatten()]).std().item() / (sum(stds["a"]) / 3)
    return Row("DiffRGATConv initialisation", "DiffGraphAttentionLayer.__init__",
               note=f"std ratio (ours / theirs): W {ratio_w:.3f}, score vectors {ratio_a:.3f}",
               deviation=max(abs(ratio_w - 1), abs(ratio_a - 1)))


def copy_transformer_encoder(theirs, ours: DialogueTransformerEncoder) -> None:
    """Our encoder's weights into the authors' TransformerEncoder(layers=1)."""
    layer = theirs.transformer_inter[0]
    attention = ours.attention
    with torch.no_grad():
        for name, W, b in zip(("q", "k", "v"), attention.in_proj_weight.chunk(3), attention.in_proj_bias.chunk(3)):
            getattr(layer.self_attn, f"linear_{name}").weight.copy_(W)
            getattr(layer.self_attn, f"linear_{name}").bias.copy_(b)
        layer.self_attn.linear.load_state_dict(attention.out_proj.state_dict())
        layer.feed_forward.w_1.load_state_dict(ours.ffn_in.state_dict())
        layer.feed_forward.w_2.load_state_dict(ours.ffn_out.state_dict())
        layer.feed_forward.layer_norm.load_state_dict(ours.norm_ffn.state_dict())


def amb_dsgdn_transformer(module) -> Row:
    """TransformerEncoder(layers=1) against DialogueTransformerEncoder on one dialogue."""
    d, heads, speakers = 8, 2, 3
    torch.manual_seed(0)
    ours = DialogueTransformerEncoder(d, heads=heads, num_speakers=speakers).double().eval()
    randomise(ours, 3)
    theirs = module.TransformerEncoder(d, d, heads, 1, dropout=0.0).double().eval()
    copy_transformer_encoder(theirs, ours)
    x, speaker = dialogue(4, 7, d, speakers)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = ours(x1, torch.zeros(7, dtype=torch.long), speaker)
    speaker_emb = ours.speaker.weight[speaker].unsqueeze(0)          # the model embeds speakers outside
    mask = torch.ones(1, 7, dtype=torch.float64)
    ref = theirs(x2.unsqueeze(0), mask, speaker_emb)[0][0]
    forward, gradient = largest_difference(out, ref, [x1], [x2], [], [])
    return Row("DialogueTransformerEncoder (eqs. 2-5)", "TransformerEncoder(layers=1)", forward, gradient,
               "inputs' gradients")


def amb_dsgdn_calcu_q(module) -> Row:
    """dropout_probabilities(rule="released") against calcu_q on 3,000 random F1 triples and edge cases."""
    g = torch.Generator().manual_seed(0)
    cases = list(0.2 + 0.5 * torch.rand(3000, 3, generator=g, dtype=torch.float64))
    cases += [torch.tensor(p, dtype=torch.float64) for p in ([0.55, 0.0, 0.30], [0.5, 0.5, 0.5], [0.0, 0.0, 0.4],
                                                             [0.2, 0.7])]
    worst = 0.0
    for p in cases:
        theirs = module.calcu_q(p.clone(), 0.3, 0.9).double()
        worst = max(worst, (dropout_probabilities(p, 0.3, 0.9, rule="released") - theirs).abs().max().item())
    return Row("dropout_probabilities (eqs. 20-24)", "calcu_q", worst, None, f"{len(cases)} performance vectors")


# -- MultiEMO (github TaoShi1998/MultiEMO-ACL2023, Model/MultiAttn.py) -------------------------

def copy_multi_attn(theirs, ours: MultiAttn) -> None:
    """Our MultiAttn's weights into the authors' MultiAttnModel."""
    targets = {"text": theirs.multiattn_text, "audio": theirs.multiattn_audio, "visual": theirs.multiattn_visual}
    with torch.no_grad():
        for m, stack in targets.items():
            for layer, unit in zip(stack.multiattn_layers, (our_layer[m] for our_layer in ours.layers)):
                for stage, (attention, add_norm) in enumerate(((layer.attn_1, layer.add_norm_1),
                                                               (layer.attn_2, layer.add_norm_2))):
                    mha = unit.attention[stage].attention
                    dh = mha.head_dim
                    weights, biases = mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)
                    for k, head in enumerate(attention.attention_heads):
                        rows = slice(k * dh, (k + 1) * dh)
                        for lin, W, b in zip((head.query_matrix, head.key_matrix, head.value_matrix), weights, biases):
                            lin.weight.copy_(W[rows])
                            lin.bias.copy_(b[rows])
                    attention.projection_matrix.load_state_dict(mha.out_proj.state_dict())
                    add_norm.layer_norm.load_state_dict(unit.attention_norm[stage].state_dict())
                layer.ff.linear_W1.load_state_dict(unit.ffn[0].state_dict())
                layer.ff.linear_W2.load_state_dict(unit.ffn[2].state_dict())
                layer.add_norm_3.layer_norm.load_state_dict(unit.ffn_norm.state_dict())


def multiemo_multi_attn(module) -> Row:
    """MultiAttnModel(2 layers, d 8, 2 heads, hidden 4d) against MultiAttn on one dialogue."""
    d, heads, layers = 8, 2, 2
    torch.manual_seed(0)
    ours = MultiAttn(d, MODALITIES, num_layers=layers, heads=heads, dropout=0.0).double().eval()
    randomise(ours, 5)
    theirs = module.MultiAttnModel(layers, d, heads, 4 * d, 0.0).double().eval()
    copy_multi_attn(theirs, ours)
    g = torch.Generator().manual_seed(6)
    x = {m: torch.randn(7, d, generator=g, dtype=torch.float64) for m in MODALITIES}
    x1 = {m: v.clone().requires_grad_() for m, v in x.items()}
    x2 = {m: v.clone().requires_grad_() for m, v in x.items()}
    out = ours(x1, torch.zeros(7, dtype=torch.long))
    ref = theirs(*(x2[m].unsqueeze(0) for m in MODALITIES))
    forward, gradient = largest_difference(torch.cat([out[m] for m in MODALITIES], -1),
                                           torch.cat([r[0] for r in ref], -1),
                                           [x1[m] for m in MODALITIES], [x2[m] for m in MODALITIES], [], [])
    return Row("MultiAttn (MFCRE sec. 3.4)", "MultiAttnModel", forward, gradient,
               "eval mode; feed-forward 4d; inputs' gradients")


# -- DAG-ERC (github shenwzh3/DAG-ERC, model.py / model_utils.py) -----------------------------

def copy_dag_erc(theirs, ours: DAGERC) -> None:
    """Our DAG-ERC's weights into the authors' DAGERC_fushion (attn_type rgcn: GAT_dialoggcn_v1).

    Their score is ``linear([H^{l-1}_i ; H^l_j])``, ours ``W_alpha [H^l_j ; H^{l-1}_i]``: the halves swap."""
    C = ours.config.hidden
    with torch.no_grad():
        theirs.fc1.load_state_dict(ours.input.state_dict())
        for gather, gru_c, gru_p, layer in zip(theirs.gather, theirs.grus_c, theirs.grus_p, ours.layers):
            gather.linear.weight.copy_(torch.cat([layer.attention.weight[:, C:], layer.attention.weight[:, :C]], 1))
            gather.linear.bias.copy_(layer.attention.bias)
            gather.Wr0.load_state_dict(layer.relation_same.state_dict())          # s_mask 1: same speaker
            gather.Wr1.load_state_dict(layer.relation_other.state_dict())
            gru_c.load_state_dict(layer.gru_node.state_dict())                   # GRU(H^{l-1}_i, M_i)
            gru_p.load_state_dict(layer.gru_context.state_dict())                # GRU(M_i, H^{l-1}_i)
        theirs.out_mlp.load_state_dict(ours.classifier.state_dict())


def dag_erc_whole_model(module) -> Row:
    """DAGERC_fushion (2 layers, 2 MLP layers) against DAGERC on 4 dialogues, evaluation mode:
    logits, and the gradients of the inputs and of the input map, relation maps and GRU weights."""
    torch.manual_seed(0)
    config = DAGERCConfig(hidden=8, num_layers=2, mlp_layers=2)
    data = SyntheticDialogues(4, "train", seed=3, min_len=2, max_len=9, max_speakers=3, dims={"text": 6},
                              pre_transform=DAGERC.required_transform(config))
    batch = Batch.from_data_list(list(data))
    x = batch[NODE].x_text.double().requires_grad_()
    batch[NODE].x_text = x
    ours = DAGERC({"text": 6}, 5, config).double().eval()
    randomise(ours, 7)
    theirs = module.DAGERC_fushion(dag_authors_args(config, 6), 5).double().eval()
    copy_dag_erc(theirs, ours)
    inputs = dag_inputs(batch)
    flat = x.detach().clone().requires_grad_()
    padded, mask = to_padded(flat, batch[NODE].batch)
    out = ours(batch).logits
    ref = theirs(**dict(inputs, features=padded))[mask]
    params_ours = [ours.input.weight] + [p for layer in ours.layers
                                         for p in (layer.relation_same.weight, layer.relation_other.weight,
                                                   layer.gru_node.weight_ih, layer.gru_node.weight_hh,
                                                   layer.gru_context.weight_ih, layer.gru_context.weight_hh)]
    params_theirs = [theirs.fc1.weight] + [p for g, c, q in zip(theirs.gather, theirs.grus_c, theirs.grus_p)
                                           for p in (g.Wr0.weight, g.Wr1.weight, c.weight_ih, c.weight_hh,
                                                     q.weight_ih, q.weight_hh)]
    forward, gradient = largest_difference(out, ref, [x], [flat], params_ours, params_theirs)
    return Row("DAGERC (whole model, eqs. 4-11)", "DAGERC_fushion", forward, gradient,
               "eval mode, 4 dialogues; gradients of inputs, input map, relation maps, GRU weights")


# -- NX-AI xLSTM (github NX-AI/xlstm, xlstm/blocks/slstm/src/vanilla/slstm.py) -------------------

def xlstm_slstm_steps(module) -> Row:
    """The vanilla sLSTM pointwise step (``slstm_forward_pointwise``) stepped 6 times against
    SLSTMCell, from the zero state, with gates large enough to move the stabiliser."""
    torch.manual_seed(0)
    ours = SLSTMCell(5, 4).double()
    randomise(ours, 9, std=1.5)
    xs = torch.randn(3, 6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
    x1, x2 = xs.clone().requires_grad_(), xs.clone().requires_grad_()
    state = ours.initial_state(3, x1)
    outputs = []
    for t in range(6):
        h, state = ours(x1[:, t], state)
        outputs.append(h)
    z, i, f, o = ours.input.weight.chunk(4)                                 # ours: z, i, f, o
    bz, bi, bf, bo = ours.input.bias.chunk(4)
    rz, ri, rf, ro = ours.recurrent.weight.chunk(4)
    W, b, R = torch.cat([i, f, z, o]), torch.cat([bi, bf, bz, bo]), torch.cat([ri, rf, rz, ro])   # theirs: i, f, z, o
    states = torch.zeros(4, 3, 4, dtype=torch.float64)                      # y, c, n, m
    theirs = []
    for t in range(6):
        states, _ = module.slstm_forward_pointwise(x2[:, t] @ W.t(), states[0] @ R.t(), b.unsqueeze(0), states, {})
        theirs.append(states[0])
    forward, gradient = largest_difference(torch.stack(outputs, 1), torch.stack(theirs, 1), [x1], [x2], [], [])
    return Row("SLSTMCell (xLSTM eqs. 8-17)", "slstm_forward_pointwise", forward, gradient,
               "6 steps from the zero state; inputs' gradients")


def xlstm_mlstm(module) -> Row:
    """NX-AI's mLSTM backends (``recurrent_step_stabilized_simple`` stepped 5 times, and
    ``parallel_stabilized_simple``) against MLSTMCell stepped and MLSTMCell.scan, from the zero
    state, with their ``eps`` 0 (dialoggraph's normaliser has none); theirs gives h~, ours
    sigmoid(o) h~, so theirs is multiplied by our output gate."""
    torch.manual_seed(0)
    ours = MLSTMCell(6, 8, heads=2).double()
    randomise(ours, 11, std=1.0)
    B, T, H, d = 2, 5, 2, 4
    xs = torch.randn(B, T, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(12))

    def projections(x):
        """q, k, v (unscaled: theirs divides k by sqrt(d)) and the gates' pre-activations, their layout."""
        q, k, v = (t.unflatten(-1, (H, d)).transpose(1, 2) for t in ours.qkv(x).chunk(3, dim=-1))
        i, f = (t.transpose(1, 2).unsqueeze(-1) for t in ours.gates(x).chunk(2, dim=-1))   # (B, H, T, 1)
        return q, k, v, i, f, torch.sigmoid(ours.output_gate(x))

    def ours_stepped(x):
        state, out = ours.initial_state(B, x), []
        for t in range(T):
            h, state = ours(x[:, t], state)
            out.append(h)
        return torch.stack(out, 1)

    def theirs_stepped(x):
        q, k, v, i, f, gate = projections(x)
        c = torch.zeros(B, H, d, d, dtype=torch.float64)
        n, m = torch.zeros(B, H, d, 1, dtype=torch.float64), torch.zeros(B, H, 1, 1, dtype=torch.float64)
        out = []
        for t in range(T):
            step = [u[:, :, t:t + 1].clone() for u in (q, k, v, i, f)]       # theirs squeezes q, k, v in place
            h, (c, n, m) = module.recurrent_step_stabilized_simple(c, n, m, *step, eps=0.0)
            out.append(h.squeeze(2).flatten(1))
        return torch.stack(out, 1) * gate

    def theirs_parallel(x):
        q, k, v, i, f, gate = projections(x)
        return module.parallel_stabilized_simple(q, k, v, i, f, eps=0.0).transpose(1, 2).flatten(2) * gate

    x = [xs.clone().requires_grad_() for _ in range(4)]
    step_forward, step_gradient = largest_difference(ours_stepped(x[0]), theirs_stepped(x[1]), [x[0]], [x[1]], [], [])
    scan_forward, scan_gradient = largest_difference(ours.scan(x[2], ours.initial_state(B, x[2]))[0],
                                                     theirs_parallel(x[3]), [x[2]], [x[3]], [], [])
    return Row("MLSTMCell (xLSTM eqs. 19-27), stepped and scan",
               "recurrent_step_stabilized_simple, parallel_stabilized_simple",
               max(step_forward, scan_forward), max(step_gradient, scan_gradient),
               f"5 steps from the zero state, eps 0; stepped {step_forward:.1e} / {step_gradient:.1e}, "
               f"scan {scan_forward:.1e} / {scan_gradient:.1e}; inputs' gradients")


# -- DialogueCRN (github zerohd4869/DialogueCRN, code/model.py) ---------------------------------

def dialogue_crn_retrieval(module) -> Row:
    """ReasonModule(processing_steps=1): its query q from its own LSTM, then its retrieval
    r_b = sum_j softmax_j(x_j . q_b) x_j over dialogue b; memory_retrieval given the same q against
    that r, for 3 dialogues of 2-6 utterances."""
    torch.manual_seed(0)
    n, lengths = 4, [3, 6, 2]
    theirs = module.ReasonModule(in_channels=n, processing_steps=1).double()
    randomise(theirs, 13, std=0.8)
    batch = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    g = torch.Generator().manual_seed(14)
    x = torch.randn(len(batch), n, dtype=torch.float64, generator=g)
    q_star = torch.randn(len(lengths), 2 * n, dtype=torch.float64, generator=g)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = theirs(x1, batch, q_star)                                     # [B, 2n] = [q; r]
    h = (x.new_zeros(1, len(lengths), n), x.new_zeros(1, len(lengths), n))
    q = theirs.lstm(q_star.unsqueeze(0), h)[0].view(len(lengths), n).detach()
    ours = memory_retrieval(q[batch], x2, batch)                        # every utterance of b asks with q_b
    first = torch.cumsum(torch.tensor([0] + lengths[:-1]), 0)
    forward, gradient = largest_difference(ours[first], out[:, n:], [x2], [x1], [], [])
    return Row("memory_retrieval (MFCRE eq. 2, DialogueCRN)", "ReasonModule", forward, gradient,
               "one reasoning turn, 3 dialogues; the memory's gradients")


# -- vision-lstm (github NX-AI/vision-lstm, vision_lstm/vision_lstm.py) and MFCRE (github rhoqwomda/MFCRE) --

def load_vision_lstm(folder: str):
    """The ``vision_lstm.vision_lstm`` module of a vision-lstm checkout (a package: relative imports)."""
    sys.path.insert(0, folder)
    try:
        return importlib.import_module("vision_lstm.vision_lstm")
    finally:
        sys.path.remove(folder)


def copy_vil(theirs, ours: ViLBlock) -> None:
    """Our ViLBlock's weights into NX-AI's ViLBlock."""
    layer = theirs.layer
    with torch.no_grad():
        theirs.norm.weight.copy_(ours.norm_weight)
        layer.proj_up.weight.copy_(ours.up.weight)
        for k, proj in enumerate((layer.q_proj, layer.k_proj, layer.v_proj)):
            proj.weight.copy_(ours.qkv[k])
        layer.conv1d.conv.load_state_dict(ours.conv.state_dict())
        layer.mlstm_cell.igate.load_state_dict(ours.input_gate.state_dict())
        layer.mlstm_cell.fgate.load_state_dict(ours.forget_gate.state_dict())
        layer.mlstm_cell.outnorm.weight.copy_(ours.head_norm_weight)
        layer.learnable_skip.copy_(ours.skip)
        layer.proj_down.weight.copy_(ours.down.weight)


def vil_block(module) -> Row:
    """ViLBlock(16, rowwise from top left) on 3 sequences of 6 steps."""
    torch.manual_seed(0)
    ours = ViLBlock(16).double()
    randomise(ours, 21, std=0.4)
    theirs = module.ViLBlock(16, module.SequenceTraversal.ROWWISE_FROM_TOP_LEFT).double().eval()
    copy_vil(theirs, ours)
    x = torch.randn(3, 6, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(22))
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    layer = theirs.layer
    pairs = [(ours.norm_weight, theirs.norm.weight), (ours.up.weight, layer.proj_up.weight),
             (ours.conv.weight, layer.conv1d.conv.weight), (ours.conv.bias, layer.conv1d.conv.bias),
             (ours.input_gate.weight, layer.mlstm_cell.igate.weight), (ours.input_gate.bias, layer.mlstm_cell.igate.bias),
             (ours.forget_gate.weight, layer.mlstm_cell.fgate.weight),
             (ours.forget_gate.bias, layer.mlstm_cell.fgate.bias),
             (ours.head_norm_weight, layer.mlstm_cell.outnorm.weight), (ours.skip, layer.learnable_skip),
             (ours.down.weight, layer.proj_down.weight)]
    forward, gradient = largest_difference(ours(x1), theirs(x2), [x1], [x2], [a for a, _ in pairs],
                                           [b for _, b in pairs])
    return Row("ViLBlock (MFCRE's reasoning cell)", "ViLBlock", forward, gradient,
               "causal 1-D; gradients of the inputs and of every parameter but the q/k/v blocks")


def vil_cell_reading(vision_lstm):
    """What dialoggraph reads ``ViLBlock(2n, n, num_layers)`` called as ``(q, h) -> (q~, h)`` as: NX-AI's
    block of width 2n over the queries so far (``h`` holds them), its last output mapped to n."""

    class ViLCellReading(torch.nn.Module):
        def __init__(self, dim, out, num_layers):
            super().__init__()
            self.block = vision_lstm.ViLBlock(dim, vision_lstm.SequenceTraversal.ROWWISE_FROM_TOP_LEFT)
            self.out = torch.nn.Linear(dim, out)

        def reset_parameters(self):
            self.block.reset_parameters()

        def forward(self, x, h):
            history = (list(h) if isinstance(h, list) else []) + [x[0]]
            return self.out(self.block(torch.stack(history, 1))[:, -1]).unsqueeze(0), history

    return ViLCellReading


class QuerywiseSimAM(torch.nn.Module):
    """The released ``simam_module`` given each ``[B, n]`` query as ``[1, 1, n]``."""

    def __init__(self, simam):
        super().__init__()
        self.simam = simam

    def forward(self, q):
        return torch.stack([self.simam(row.view(1, 1, -1)).flatten() for row in q])


def load_mfcre(folder: str, authors: str):
    """MFCRE's ``Model/DialogueCRN.py``, ``Model/model.py`` and ``Loss/*.py`` (a namespace of modules)."""
    vision_lstm = load_vision_lstm(os.path.join(authors, "vision-lstm"))
    model_dir = os.path.join(folder, "Model")
    crn = load_module(model_dir, "DialogueCRN", {**TORCH_SCATTER, "vision_lstm": {
        "ViLBlock": vil_cell_reading(vision_lstm)}})
    model = load_module(model_dir, "model", {"DialogueCRN": {"DialogueCRN": crn.DialogueCRN},
                                             "MultiAttn": {"MultiAttnModel": None}})
    hgr = load_module(os.path.join(folder, "Loss"), "SoftHGRLoss")
    swfc = load_module(os.path.join(folder, "Loss"), "SampleWeightedFocalContrastiveLoss")
    return SimpleNamespace(crn=crn, model=model, hgr=hgr, swfc=swfc)


def copy_reason(theirs, ours) -> None:
    """One level's ViL cell and output map."""
    with torch.no_grad():
        copy_vil(theirs.xlstm.block, ours.cell)
        theirs.xlstm.out.load_state_dict(ours.cell_out.state_dict())


def mfcre_dialogue_crn(mfcre) -> Row:
    """DialogueCRN(n 8, out 8, reason_steps [2, 2]) on 3 dialogues of 2-5 utterances (U_s = U_p = the
    features, padded as its forward expects); ours through a log-softmax, as its output."""
    n, lengths = 8, [4, 2, 5]
    torch.manual_seed(0)
    ours = DialogueCRN(n, n, turns=2).double().eval()
    randomise(ours, 23, std=0.4)
    theirs = mfcre.crn.DialogueCRN(n, n, 0.0, False, [2, 2]).double().eval()
    for reason in theirs.reason_modules:
        reason.simam = QuerywiseSimAM(reason.simam)
    with torch.no_grad():
        theirs.fc.load_state_dict(ours.query.state_dict())
        theirs.smax_fc.load_state_dict(ours.out.state_dict())
    copy_reason(theirs.reason_modules[0], ours.situation)
    copy_reason(theirs.reason_modules[1], ours.speaker)
    batch = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    x = torch.randn(len(batch), n, dtype=torch.float64, generator=torch.Generator().manual_seed(24))
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    padded = to_padded(x2, batch)[0].transpose(0, 1)                    # (l, b, h)
    ref = theirs(padded, padded, lengths)
    out = torch.log_softmax(ours(x1, batch), -1)
    forward, gradient = largest_difference(out, ref, [x1], [x2], [], [])
    return Row("DialogueCRN (MFCRE eqs. 1-3)", "`Model/DialogueCRN.py` DialogueCRN + ReasonModule", forward, gradient,
               "readings applied around theirs: the ViL cell, SimAM per query; inputs' gradients")


def mfcre_modality_encoder(mfcre) -> Row:
    """Conv1d(6 -> 8, kernel 1, no bias) + TransformerEncoder(d 8, d_ff 8, 2 heads, 2 layers) on one dialogue."""
    torch.manual_seed(0)
    ours = ModalityEncoder(6, 8, layers=2, heads=2, ffn_channels=8).double().eval()
    randomise(ours, 25, std=0.4)
    conv = torch.nn.Conv1d(6, 8, kernel_size=1, padding=0, bias=False).double()
    theirs = mfcre.model.TransformerEncoder(d_model=8, d_ff=8, heads=2, layers=2, dropout=0.0).double().eval()
    with torch.no_grad():
        conv.weight.copy_(ours.conv.weight.unsqueeze(-1))
        for i, layer in enumerate(theirs.transformer_inter):
            mha = ours.attention[i].attention
            for lin, W, b in zip((layer.self_attn.linear_q, layer.self_attn.linear_k, layer.self_attn.linear_v),
                                 mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)):
                lin.weight.copy_(W)
                lin.bias.copy_(b)
            layer.self_attn.linear.load_state_dict(mha.out_proj.state_dict())
            if i:
                layer.layer_norm.load_state_dict(ours.norm[i - 1].state_dict())
            layer.feed_forward.layer_norm.load_state_dict(ours.ffn_norm[i].state_dict())
            layer.feed_forward.w_1.load_state_dict(ours.ffn_in[i].state_dict())
            layer.feed_forward.w_2.load_state_dict(ours.ffn_out[i].state_dict())
    x = torch.randn(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(26))
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    h = conv(x2.t().unsqueeze(0)).transpose(1, 2)                       # textf, batch-first
    ref = theirs(h, h, torch.ones(1, 7), torch.zeros(1, 7, 2))[0]
    forward, gradient = largest_difference(ours(x1, None), ref, [x1], [x2], [], [])
    return Row("ModalityEncoder (MFCRE eq. 4)", "`Model/model.py` textf + TransformerEncoder(layers=2)", forward, gradient,
               "inputs' gradients")


def mfcre_soft_hgr(mfcre) -> Row:
    """Soft-HGR on three modalities of 40 utterances."""
    f = [torch.randn(40, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(27 + k)) for k in range(3)]
    f1, f2 = [t.clone().requires_grad_() for t in f], [t.clone().requires_grad_() for t in f]
    ours = SoftHGRLoss("released")(dict(zip(MODALITIES, f1)))
    forward, gradient = largest_difference(ours, mfcre.hgr.SoftHGRLoss()(*f2), f1, f2, [], [])
    return Row("SoftHGRLoss(form='released')", "`Loss/SoftHGRLoss.py` SoftHGRLoss", forward, gradient,
               "features' gradients")


def mfcre_swfc(mfcre) -> Row:
    """SWFC (tau 1.4, gamma 3, alpha 1.2, training counts) on 40 utterances of 7 classes. Theirs
    makes the sample weights a float32 tensor (``torch.FloatTensor``): ours is compared with its
    class weights rounded to float32 too; the note gives the difference without that rounding."""
    g = torch.Generator().manual_seed(30)
    z = torch.randn(40, 8, dtype=torch.float64, generator=g)
    y = torch.randint(0, 7, (40,), generator=g)
    counts = torch.tensor([120.0, 30.0, 25.0, 80.0, 160.0, 20.0, 90.0], dtype=torch.float64)
    swfc = SampleWeightedFocalContrastiveLoss(1.4, 1.2, 3.0, True, True, num_classes=7).double()
    swfc.set_class_counts(counts)
    theirs = mfcre.swfc.SampleWeightedFocalContrastiveLoss(1.4, 3.0, 1.2, "MELD", counts, "cpu")
    z1, z2 = z.clone().requires_grad_(), z.clone().requires_grad_()
    unrounded = (swfc(z, y) - theirs(z, y)).abs().item()
    exact = swfc.class_weights
    swfc.class_weights = lambda labels: exact(labels).float().double()
    forward, gradient = largest_difference(swfc(z1, y), theirs(z2, y), [z1], [z2], [], [])
    return Row("SampleWeightedFocalContrastiveLoss (training counts)",
               "`Loss/SampleWeightedFocalContrastiveLoss.py` SampleWeightedFocalContrastiveLoss", forward, gradient,
               f"z's gradients; class weights rounded to float32 as theirs (unrounded: {unrounded:.1e})")


#: (repository folder, file, comparisons)
CHECKS: list[tuple[str, str, list[Callable]]] = [
    ("AMB-DSGDN", "model.py", [amb_dsgdn_diff_rgcn, amb_dsgdn_transformer, amb_dsgdn_calcu_q, amb_dsgdn_init,
                                  amb_dsgdn_whole_model]),
    ("MultiEMO-ACL2023", "Model/MultiAttn.py", [multiemo_multi_attn]),
    ("DAG-ERC", "model.py", [dag_erc_whole_model]),
    ("xlstm", "xlstm/blocks/slstm/src/vanilla/slstm.py", [xlstm_slstm_steps]),
    ("xlstm", "xlstm/blocks/mlstm/backends.py", [xlstm_mlstm]),
    ("DialogueCRN", "code/model.py", [dialogue_crn_retrieval]),
    ("vision-lstm", "vision_lstm/vision_lstm.py", [vil_block]),
    ("MFCRE", "Model/model.py", [mfcre_dialogue_crn, mfcre_modality_encoder, mfcre_soft_hgr, mfcre_swfc]),
]


def compare(authors: str) -> list[Row]:
    """Every comparison whose checkout is in ``authors``, with float64 as the default dtype (the
    authors' code makes some tensors in the default dtype, e.g. ``calcu_q``'s ``q``)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _compare(authors)
    finally:
        torch.set_default_dtype(default)


def _compare(authors: str) -> list[Row]:
    rows = []
    for repository, path, checks in CHECKS:
        file = os.path.join(authors, repository, path)
        if not os.path.exists(file):
            rows += [Row(check.__name__, f"{repository}/{path}", note=f"no checkout: {file}") for check in checks]
            continue
        if repository == "vision-lstm":
            module = load_vision_lstm(os.path.join(authors, repository))
        elif repository == "MFCRE":
            module = load_mfcre(os.path.join(authors, repository), authors)
        else:
            stand_ins = {"DAG-ERC": TRANSFORMERS_PLACEHOLDERS, "DialogueCRN": TORCH_SCATTER}.get(repository)
            module = load_module(os.path.dirname(file), os.path.basename(path)[:-3], stand_ins)
        for check in checks:
            row = check(module)
            row.authors = f"{repository} {row.authors}" if repository == "MFCRE" else \
                f"{repository} `{path}`: {row.authors}"
            rows.append(row)
    return rows


def markdown(rows: list[Row]) -> str:
    def fmt(v):
        return "" if v is None else f"{v:.1e}"
    lines = ["| dialoggraph | authors' module | max abs. output diff | max abs. gradient diff | result | note |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    lines += [f"| {r.block} | {r.authors} | {fmt(r.forward)} | {fmt(r.gradient)} | {r.status} | {r.note} |"
              for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", required=True, help="folder of the authors' checkouts")
    parser.add_argument("--markdown", help="write the table here")
    args = parser.parse_args()
    rows = compare(args.authors)
    table = markdown(rows)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    if any(r.status == "DIFFERS" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
