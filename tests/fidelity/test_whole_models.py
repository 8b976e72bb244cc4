"""Whole models against float64 references of the whole published models given the same weights
(eval mode, one dialogue at a time, loops allowed): a block fed the wrong subgraph, blocks in the
wrong order, or a classifier that loses one of its inputs fails here, where the blocks' own tests
pass. AMB-DSGDN and DAG-ERC follow the authors' released models (github wys-ljq/AMB-DSGDN
``Transformer_Based_Model``, github shenwzh3/DAG-ERC ``DAGERC_fushion``), built from the block
ports of test_authors_code.py; benchmarks/fidelity.py runs the authors' modules themselves."""
import torch
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_adj

from references import assert_same_forward_and_gradients, linear, per_dialogue, randomise, sigmoid
from test_authors_code import original_diff_rgcn, original_transformer_encoder
from dialoggraph.data.dialogue import DAG, INTER, INTRA, NODE
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig, DAGERC, DAGERCConfig

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
    torch.manual_seed(0)
    config = AMBDSGDNConfig(hidden=8, heads=2, graph_heads=2, window=2)
    batch = float64_batch(config, AMBDSGDN)
    model = randomise(AMBDSGDN(DIMS, 5, config).double().eval(), seed=1)
    ours_inputs, x = leaf_inputs(batch, DIMS)
    out = model(batch).logits
    store = batch[NODE]
    ref = torch.cat([amb_dsgdn_reference(model, {m: v[nodes] for m, v in x.items()}, store.speaker[nodes],
                                         dense_relations(batch, INTER, nodes), dense_relations(batch, INTRA, nodes))
                     for nodes in per_dialogue(store.batch)])
    assert_same_forward_and_gradients(model, ours_inputs, list(x.values()), out, ref)


# -- DAG-ERC ----------------------------------------------------------------------------------

def gru_cell(x, h, cell):
    """torch.nn.GRUCell's formula: r, z, n gates; h' = (1 - z) n + z h."""
    i_r, i_z, i_n = (cell.weight_ih @ x + cell.bias_ih).chunk(3)
    h_r, h_z, h_n = (cell.weight_hh @ h + cell.bias_hh).chunk(3)
    r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def dag_erc_reference(model, x, speaker, predecessors):
    """DAGERC_fushion.forward (attn_type rgcn, eval) on one dialogue, utterance by utterance:
    alpha_ij = softmax_j Linear([H^{l-1}_i ; H^l_j]) over i's predecessors, M_i = sum_j alpha_ij
    W_{same/other}(H^l_j), H^l_i = GRU_c(H^{l-1}_i, M_i) + GRU_p(M_i, H^{l-1}_i); the classifier reads
    [H^0; ...; H^L; x]."""
    C = model.config.hidden
    states = [torch.relu(linear(x, model.input))]
    for layer in model.layers:
        W = layer.attention.weight[0]                 # ours: [H^l_j ; H^{l-1}_i]
        previous, current = states[-1], []
        for i in range(x.size(0)):
            message = torch.zeros(C, dtype=x.dtype)
            if predecessors[i]:
                scores = torch.stack([W[C:] @ previous[i] + W[:C] @ current[j] + layer.attention.bias[0]
                                      for j in predecessors[i]])
                alpha = torch.softmax(scores, 0)
                for a, j in zip(alpha, predecessors[i]):
                    relation = layer.relation_same if speaker[j] == speaker[i] else layer.relation_other
                    message = message + a * (relation.weight @ current[j])
            current.append(gru_cell(previous[i], message, layer.gru_node) + gru_cell(message, previous[i],
                                                                                    layer.gru_context))
        states.append(torch.stack(current))
    h = torch.cat(states + [x], dim=-1)
    for module in model.classifier:
        h = linear(h, module) if isinstance(module, torch.nn.Linear) else \
            torch.relu(h) if isinstance(module, torch.nn.ReLU) else h          # dropout: eval
    return h


def test_dag_erc_is_the_authors_whole_model():
    torch.manual_seed(0)
    config = DAGERCConfig(hidden=8, num_layers=2, mlp_layers=2)
    batch = float64_batch(config, DAGERC, num=4, seed=3, dims={"text": 6})
    model = randomise(DAGERC({"text": 6}, 5, config).double().eval(), seed=2)
    ours_inputs, x = leaf_inputs(batch, {"text": 6})
    out = model(batch).logits
    store, (src, dst) = batch[NODE], batch[DAG].edge_index
    refs = []
    for nodes in per_dialogue(store.batch):
        start = int(nodes[0])
        predecessors = [sorted(int(j) - start for j in src[dst == i]) for i in nodes.tolist()]
        refs.append(dag_erc_reference(model, x["text"][nodes], store.speaker[nodes], predecessors))
    assert_same_forward_and_gradients(model, ours_inputs, [x["text"]], out, torch.cat(refs))
