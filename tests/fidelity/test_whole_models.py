"""Whole models against float64 references of the whole published models given the same weights
(eval mode, one dialogue at a time, loops allowed): a block fed the wrong subgraph, blocks in the
wrong order, or a classifier that loses one of its inputs fails here, where the blocks' own tests
pass. AMB-DSGDN and DAG-ERC follow the authors' released models (github wys-ljq/AMB-DSGDN
``Transformer_Based_Model``, github shenwzh3/DAG-ERC ``DAGERC_fushion``), built from the block
ports of test_authors_code.py; benchmarks/fidelity.py runs the authors' modules themselves.
MFCRE follows its authors' ``MultiEMO`` (github rhoqwomda/MFCRE ``Model/model.py``) and their loss in
``Train/train.py``, with the readings its modules state where the release cannot run as it is.
MDGET-MER, LFVD and CMGFE have no released code: their references compose the papers'
equations from the block references of tests/nn."""
import sys
from pathlib import Path

import torch
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_adj

sys.path.insert(0, str(Path(__file__).parents[1] / "nn"))          # the block references of tests/nn
sys.path.insert(0, str(Path(__file__).parents[1] / "nn" / "seq"))
sys.path.insert(0, str(Path(__file__).parents[1] / "nn" / "fusion"))

from references import (assert_same_forward_and_gradients, bigru, gelu, layer_norm, linear,  # noqa: E402
                        per_dialogue, randomise, sigmoid)
from test_authors_code import original_diff_rgcn, original_transformer_encoder  # noqa: E402
from test_gated_family_references import acme_reference, gue_reference  # noqa: E402
from test_dialogue_crn import dialogue_crn_reference  # noqa: E402
from test_modality_encoder import released_encoder  # noqa: E402
from test_sequence_family_references import lft_reference, multi_attn_reference  # noqa: E402
from dialoggraph.data.dialogue import DAG, INTER, INTRA, NODE  # noqa: E402
from dialoggraph.datasets import SyntheticDialogues  # noqa: E402
from dialoggraph.train.trainer import training_loss  # noqa: E402
from dialoggraph.models import (AMBDSGDN, AMBDSGDNConfig, CMGFE, CMGFEConfig, DAGERC, DAGERCConfig,  # noqa: E402
                                LFVD, LFVDConfig, MDGETMER, MDGETMERConfig, MFCRE, MFCREConfig)

DIMS = {"text": 6, "audio": 5, "visual": 4}


def float64_batch(config, model_class, num=3, seed=4, dims=DIMS):
    data = SyntheticDialogues(num, "train", seed=seed, min_len=3, max_len=8, max_speakers=3, dims=dims,
                              pre_transform=model_class.required_transform(config))
    batch = Batch.from_data_list(list(data))
    for m in dims:
        batch[NODE][f"x_{m}"] = batch[NODE][f"x_{m}"].double()
    return batch


def dense_relations(batch, store, nodes):
    """rel[i, j] = relation id + 1 of the edge j -> i of ``store`` inside one dialogue (0: none)."""
    edge_index, edge_rel = batch[store].edge_index, batch[store].edge_rel
    inside = torch.isin(edge_index[1], nodes)
    local = torch.searchsorted(nodes, edge_index[:, inside])
    return to_dense_adj(local, edge_attr=edge_rel[inside] + 1, max_num_nodes=nodes.numel())[0].long().t()


def leaf_inputs(batch, dims):
    """The batch's features as fresh leaves for the model, and equal leaves for the reference."""
    ours, theirs = [], []
    for m in dims:
        batch[NODE][f"x_{m}"] = batch[NODE][f"x_{m}"].detach().clone().requires_grad_()
        ours.append(batch[NODE][f"x_{m}"])
        theirs.append(batch[NODE][f"x_{m}"].detach().clone().requires_grad_())
    return ours, dict(zip(dims, theirs))


def assert_matches_reference(model_class, config, reference, dims=DIMS, num=3, seed=4, weights=0):
    """The model (float64, eval, parameters randomised with seed ``weights``) on a batch of ``num``
    synthetic dialogues against ``reference(model, x, batch, nodes)``, dialogue by dialogue, with
    ``x`` the dialogue's features per modality: logits, and the gradients of the inputs and of
    every parameter."""
    torch.manual_seed(0)
    batch = float64_batch(config, model_class, num, seed, dims)
    model = randomise(model_class(dims, 5, config).double().eval(), seed=weights)
    ours_inputs, x = leaf_inputs(batch, dims)
    out = model(batch).logits
    ref = torch.cat([reference(model, {m: v[nodes] for m, v in x.items()}, batch, nodes)
                     for nodes in per_dialogue(batch[NODE].batch)])
    assert_same_forward_and_gradients(model, ours_inputs, list(x.values()), out, ref)


# -- AMB-DSGDN --------------------------------------------------------------------------------

def amb_dsgdn_reference(model, x, speaker, rel_inter, rel_intra):
    """Transformer_Based_Model.forward (eval) on one dialogue: per modality the input map; audio and
    visual the one-layer encoder with the *shared* speaker table; DiffRGCN on the inter-speaker
    relations, then on the intra-speaker ones; audio and visual the sigmoid filter; per modality
    ReLU -> Linear; the logits summed."""
    speaker_table = model.encoder["audio"].speaker.weight
    logits = 0.0
    for m, features in x.items():
        h = linear(features, model.projection[m])
        if m != "text":
            h = original_transformer_encoder(model.encoder[m], h, speaker, speaker_table)
        h = original_diff_rgcn(model.inter[m], h, rel_inter)
        h = original_diff_rgcn(model.intra[m], h, rel_intra)
        if m != "text":
            h = h * sigmoid(linear(h, model.gate[m].linear))
        logits = logits + linear(torch.relu(h), model.head[m][2])
    return logits


def test_amb_dsgdn_is_the_authors_whole_model():
    assert_matches_reference(AMBDSGDN, AMBDSGDNConfig(hidden=8, heads=2, graph_heads=2, window=2),
                             lambda model, x, batch, nodes: amb_dsgdn_reference(
                                 model, x, batch[NODE].speaker[nodes], dense_relations(batch, INTER, nodes),
                                 dense_relations(batch, INTRA, nodes)), weights=1)


# -- DAG-ERC ----------------------------------------------------------------------------------

def gru_cell(x, h, cell):
    """torch.nn.GRUCell's formula: r, z, n gates; h' = (1 - z) n + z h."""
    i_r, i_z, i_n = (cell.weight_ih @ x + cell.bias_ih).chunk(3)
    h_r, h_z, h_n = (cell.weight_hh @ h + cell.bias_hh).chunk(3)
    r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def dag_layer_reference(layer, previous, speaker, predecessors):
    """One DAG-ERC layer (DAGERC_fushion's loop body), utterance by utterance:
    alpha_ij = softmax_j Linear([H^{l-1}_i ; H^l_j]) over i's predecessors, M_i = sum_j alpha_ij
    W_{same/other}(H^l_j), H^l_i = GRU_c(H^{l-1}_i, M_i) + GRU_p(M_i, H^{l-1}_i)."""
    C = previous.size(1)
    W = layer.attention.weight[0]                     # ours: [H^l_j ; H^{l-1}_i]
    current = []
    for i in range(previous.size(0)):
        message = torch.zeros(C, dtype=previous.dtype)
        if predecessors[i]:
            scores = torch.stack([W[C:] @ previous[i] + W[:C] @ current[j] + layer.attention.bias[0]
                                  for j in predecessors[i]])
            alpha = torch.softmax(scores, 0)
            for a, j in zip(alpha, predecessors[i]):
                relation = layer.relation_same if speaker[j] == speaker[i] else layer.relation_other
                message = message + a * (relation.weight @ current[j])
        current.append(gru_cell(previous[i], message, layer.gru_node) + gru_cell(message, previous[i],
                                                                                layer.gru_context))
    return torch.stack(current)


def dag_predecessors(batch, nodes):
    """Each utterance's DAG predecessors, as positions inside its dialogue."""
    src, dst = batch[DAG].edge_index
    start = int(nodes[0])
    return [sorted(int(j) - start for j in src[dst == i]) for i in nodes.tolist()]


def dag_erc_reference(model, x, speaker, predecessors):
    """DAGERC_fushion.forward (attn_type rgcn, eval) on one dialogue: the input map, the DAG layers,
    and the classifier on [H^0; ...; H^L; x]."""
    states = [torch.relu(linear(x, model.input))]
    for layer in model.layers:
        states.append(dag_layer_reference(layer, states[-1], speaker, predecessors))
    h = torch.cat(states + [x], dim=-1)
    for module in model.classifier:
        h = linear(h, module) if isinstance(module, torch.nn.Linear) else \
            torch.relu(h) if isinstance(module, torch.nn.ReLU) else h          # dropout: eval
    return h


def test_dag_erc_is_the_authors_whole_model():
    assert_matches_reference(DAGERC, DAGERCConfig(hidden=8, num_layers=2, mlp_layers=2),
                             lambda model, x, batch, nodes: dag_erc_reference(
                                 model, x["text"], batch[NODE].speaker[nodes], dag_predecessors(batch, nodes)),
                             dims={"text": 6}, num=4, seed=3, weights=2)


# -- MDGET-MER (eqs. 1-29) ----------------------------------------------------------------------

def mdget_mer_reference(model, x):
    """One dialogue: per modality the input map and the shared GUE layers (eqs. 1-5); the ACME
    layers over all modalities (eqs. 6-22); gated fusion (eqs. 23-25) of the modalities in the
    model's order; the gated classifier (eqs. 26-29)."""
    features = {m: linear(v, model.projection[m]) for m, v in x.items()}
    for layer in model.gue:
        features = {m: gue_reference(layer, v) for m, v in features.items()}
    for layer in model.acme:
        features = acme_reference(layer, features)
    h = [features[m] for m in model.modalities]
    g = sigmoid(linear(torch.cat(h, -1), model.fusion.gate))                            # eq. 23
    gate_sum = sum(g[:, k:k + 1] * h[k] for k in range(len(h)))                         # eq. 24
    hi = torch.cat(h + [gate_sum], -1)                                                  # eq. 25
    gf = sigmoid(linear(hi, model.classifier.gate))                                     # eqs. 26-27
    return linear(torch.relu(linear(gf * hi, model.classifier.hidden)), model.classifier.out)   # eqs. 28-29


def test_mdget_mer_is_eqs_1_to_29_composed():
    assert_matches_reference(MDGETMER, MDGETMERConfig(hidden=4, heads=2, gue_layers=2, acme_layers=2,
                                                      classifier_hidden=6),
                             lambda model, x, batch, nodes: mdget_mer_reference(model, x), weights=3)


# -- LFVD (eqs. 2-18) ---------------------------------------------------------------------------

def kl_mean(mu_q, logvar_q, mu_p, logvar_p):
    """KL(N(mu_q, e^logvar_q) || N(mu_p, e^logvar_p)) per utterance, averaged over dimensions."""
    per_dim = 0.5 * (logvar_p - logvar_q) + (torch.exp(logvar_q) + (mu_q - mu_p) ** 2) / (2 * torch.exp(logvar_p)) \
        - 0.5
    return per_dim.mean(-1)


def lfvd_reference(model, x, speaker, predecessors):
    """One dialogue: per modality a BiGRU (eq. 2) and the DAG layers (eq. 3); the language-focused
    transformer with its atmosphere token (eqs. 4-9); in evaluation the variational fusion of the
    means, z = mu_l + sum_m w_m mu_m with w_m = sigmoid((KL(l||m) + KL(m||l)) / 2) (eqs. 12-17);
    the linear classifier (eq. 18)."""
    features = {}
    for m, v in x.items():
        h = bigru(v, model.gru[m].gru)
        for layer in model.dag[m]:
            h = dag_layer_reference(layer, h, speaker, predecessors)
        features[m] = h
    features = lft_reference(model.lfa, features)
    vd = model.vd
    stats = {m: (linear(h, vd.mean[m]), linear(h, vd.logvar[m]).clamp(-10.0, 10.0)) for m, h in features.items()}
    mu_l, logvar_l = stats["text"]
    fused = mu_l
    for m, (mu, logvar) in stats.items():
        if m != "text":
            weight = sigmoid(0.5 * (kl_mean(mu_l, logvar_l, mu, logvar) + kl_mean(mu, logvar, mu_l, logvar_l)))
            fused = fused + weight.unsqueeze(-1) * mu
    return linear(fused, model.classifier)


def test_lfvd_is_eqs_2_to_18_composed():
    assert_matches_reference(LFVD, LFVDConfig(hidden=4, heads=2, dag_layers=2),
                             lambda model, x, batch, nodes: lfvd_reference(
                                 model, x, batch[NODE].speaker[nodes], dag_predecessors(batch, nodes)), weights=4)


# -- CMGFE (our reading of its abstract) ---------------------------------------------------------

def cmgfe_reference(model, x, speaker):
    """One dialogue: per modality the input map and a one-layer transformer encoder with speaker
    embeddings; the cross-modal guided gate x~_m = LN(x_m + sigmoid(W_m [x_m; mean of the others]) x_m);
    per pair (a, b) with third modality c, b_ab = LN(sigmoid(W_g [x~_a; x~_b; x~_c]) GELU(W [x~_a; x~_b]));
    the teacher GELU(W_t [b_ta; b_tv; b_av]) and its linear head."""
    features = {}
    for m, v in x.items():
        features[m] = original_transformer_encoder(model.context[m], linear(v, model.projection[m]), speaker)
    gated = {}
    for m, v in features.items():
        guide = sum(u for k, u in features.items() if k != m) / (len(features) - 1)
        g = sigmoid(linear(torch.cat([v, guide], -1), model.guided_gate.gate[m]))
        gated[m] = layer_norm(v + g * v, model.guided_gate.norm[m])
    pairs = []
    for a, b in model.pairs:
        (c,) = [m for m in gated if m not in (a, b)]
        fusion = model.bimodal[f"{a}+{b}"]
        gate = sigmoid(linear(torch.cat([gated[a], gated[b], gated[c]], -1), fusion.gate))
        pairs.append(layer_norm(gate * gelu(linear(torch.cat([gated[a], gated[b]], -1), fusion.fuse)), fusion.norm))
    teacher = gelu(linear(torch.cat(pairs, -1), model.trimodal))
    return linear(teacher, model.heads["all"][1])


def test_cmgfe_is_its_reading_composed():
    assert_matches_reference(CMGFE, CMGFEConfig(hidden=4, heads=2),
                             lambda model, x, batch, nodes: cmgfe_reference(model, x, batch[NODE].speaker[nodes]),
                             weights=5)

# -- MFCRE ------------------------------------------------------------------------------------

MFCRE_SMALL = dict(channels=4, ffn_channels=8, encoder_ffn_channels=4, heads=2, classifier_hidden=6, turns=2)


def mfcre_features(model, x):
    """MultiEMO.forward up to MultiAttn on one dialogue: text_fc / audio_fc / visual_fc, DialogueCRN,
    the width-1 convolution and the intra-modal TransformerEncoder (the first third of each
    concatenation), MultiAttnModel."""
    encoded = {m: released_encoder(model.encoder[m], dialogue_crn_reference(model.crn[m], linear(v, model.project[m])))
               for m, v in x.items()}
    return multi_attn_reference(model.multi_attn, encoded)


def mfcre_reference(model, x):
    """... then fc on [f_t; f_a; f_v] and the MLP (Linear, ReLU, Linear)."""
    f = mfcre_features(model, x)
    z = linear(torch.cat([f[m] for m in ("text", "audio", "visual")], -1), model.fc)
    return linear(torch.relu(linear(z, model.hidden)), model.out)


def test_mfcre_is_the_authors_whole_model():
    assert_matches_reference(MFCRE, MFCREConfig(**MFCRE_SMALL), lambda model, x, batch, nodes: mfcre_reference(model, x),
                             weights=6)


def released_swfc(z, y, counts, temp, focus, sample_weight):
    """SampleWeightedFocalContrastiveLoss.forward: weights from the training counts, L1-normalised;
    per anchor the softmax of its similarities to the other utterances, the focal log of its
    positives averaged; the sum over anchors divided by N."""
    weights = (counts.sum() / counts) ** sample_weight
    weights = weights / weights.abs().sum()
    z = z / z.norm(dim=-1, keepdim=True)
    total, n = 0.0, z.size(0)
    for i in range(n):
        others = torch.arange(n) != i
        probs = torch.softmax((z[others] * z[i]).sum(-1) / temp, dim=0)
        positive = probs[y[others] == y[i]]
        if len(positive) > 0:
            total = total + torch.mean(torch.log(positive) * (1 - positive) ** focus) * weights[y[i]]
    return -total / n


def released_soft_hgr(features):
    """SoftHGRLoss.forward(f_t, f_a, f_v), as released (torch.cov of the [N, d] features)."""
    n = features[0].size(0)
    total = 0.0
    for i in range(len(features) - 1):
        for j in range(i + 1, len(features)):
            mapping = torch.mean(torch.sum(features[i] * features[j], dim=-1), dim=0)
            covariance = torch.trace(torch.cov(features[i]) @ torch.cov(features[j])) / n
            total = total + mapping - covariance / 2
    return -total / n


def test_mfcre_training_loss_is_train_pys():
    """loss = Soft-HGR x 0.3 + SWFC x 0.3 + CE x 0.4 (the MELD script), on a batch of three dialogues
    (dropout 0, the release's default, so training mode computes the evaluation forward)."""
    config = MFCREConfig(**MFCRE_SMALL)
    batch = float64_batch(config, MFCRE, num=3, seed=4)
    model = randomise(MFCRE(DIMS, 7, config).double(), seed=6).train()
    counts = torch.tensor([5.0, 3.0, 9.0, 2.0, 4.0, 6.0, 1.0], dtype=torch.float64)
    model.swfc.set_class_counts(counts)
    y = batch[NODE].y
    ours = training_loss(model(batch), y)
    x = {m: batch[NODE][f"x_{m}"] for m in DIMS}
    parts = [mfcre_features(model, {m: v[nodes] for m, v in x.items()}) for nodes in per_dialogue(batch[NODE].batch)]
    f = {m: torch.cat([p[m] for p in parts]) for m in DIMS}
    z = linear(torch.cat([f[m] for m in ("text", "audio", "visual")], -1), model.fc)
    logits = linear(torch.relu(linear(z, model.hidden)), model.out)
    theirs = (released_soft_hgr([f["text"], f["audio"], f["visual"]]) * 0.3
              + released_swfc(z, y, counts, 1.4, 3.0, 1.2) * 0.3 + torch.nn.functional.cross_entropy(logits, y) * 0.4)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-12), (ours - theirs).abs()
