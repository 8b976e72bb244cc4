import matplotlib.image
import numpy as np
import torch
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from dialoggraph.analysis.explain import explain_dialogue, explanation_figure, strongest_sources
from dialoggraph.plotting import save_figure
from dialoggraph.data.dialogue import DAG, INTER, INTRA
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig, DAGERC, DAGERCConfig, MDGETMER

NAMES = SyntheticDialogues(1).label_names


def dialogue_for(model_cls, config):
    return SyntheticDialogues(1, "test", seed=2, min_len=6, max_len=6,
                              pre_transform=model_cls.required_transform(config))[0]


def test_amb_dsgdn_attention_covers_its_subgraphs_and_leaves_the_logits_alone(tmp_path):
    torch.manual_seed(0)
    config = AMBDSGDNConfig(hidden=16, graph_heads=2, heads=2, window=2)
    dialogue = dialogue_for(AMBDSGDN, config)
    model = AMBDSGDN({m: dialogue["utterance"][f"x_{m}"].size(1) for m in ("text", "audio", "visual")}, 7,
                     config).eval()
    batch = Batch.from_data_list([dialogue])
    plain, asked = model(batch), model(batch, return_attention_weights=True)
    torch.testing.assert_close(asked.logits, plain.logits)
    assert not plain.attention
    explanation = explain_dialogue(model, dialogue, NAMES)
    assert set(explanation["edges"]) == {f"{m} {k}-speaker" for m in ("text", "audio", "visual")
                                         for k in ("inter", "intra")}
    inter = explanation["edges"]["text inter-speaker"]
    assert [inter["source"], inter["target"]] == dialogue[INTER].edge_index.tolist()
    assert len(explanation["edges"]["audio intra-speaker"]["weight"]) == dialogue[INTRA].num_edges
    # the block's attention is its output layer's: recompute it by hand from that layer
    block = model.inter["text"]
    h = model.projection["text"](batch["utterance"].x_text)
    if "text" in model.encoder:
        h = model.encoder["text"](h, None, batch["utterance"].speaker)
    z = torch.nn.functional.gelu(block.heads_layer(h, batch[INTER].edge_index, batch[INTER].edge_rel))
    _, (_, alpha) = block.out_layer(z, batch[INTER].edge_index, batch[INTER].edge_rel, return_attention_weights=True)
    np.testing.assert_allclose(inter["weight"], alpha[:, 0].detach().numpy(), atol=1e-6)
    assert explanation["predicted"] == [NAMES[c] for c in plain.logits.argmax(-1).tolist()]
    paths = save_figure(explanation_figure(explanation), str(tmp_path / "amb"))
    assert matplotlib.image.imread(paths[0]).shape[0] > 200


def test_dag_erc_attention_is_a_distribution_over_predecessors():
    torch.manual_seed(0)
    config = DAGERCConfig(hidden=16, num_layers=2, modalities=("text",))
    dialogue = dialogue_for(DAGERC, config)
    model = DAGERC({"text": dialogue["utterance"].x_text.size(1)}, 7, config).eval()
    explanation = explain_dialogue(model, dialogue, NAMES)
    assert set(explanation["edges"]) == {"layer 1", "layer 2"}
    edges = explanation["edges"]["layer 2"]
    assert [edges["source"], edges["target"]] == dialogue[DAG].edge_index.tolist()
    sums = scatter(torch.tensor(edges["weight"]), torch.tensor(edges["target"]), dim=0, dim_size=6, reduce="sum")
    has = torch.bincount(torch.tensor(edges["target"]), minlength=6) > 0
    torch.testing.assert_close(sums[has], torch.ones(int(has.sum())))
    top = strongest_sources(explanation, "layer 1", k=1)
    assert top[0] == [] and all(len(t) == 1 for t, h in zip(top, has.tolist()) if h)


def test_gated_model_shows_its_gates(tmp_path):
    model = MDGETMER({"text": 128, "audio": 64, "visual": 64}, 7).eval()
    dialogue = dialogue_for(MDGETMER, model.config)
    explanation = explain_dialogue(model, dialogue, NAMES)
    assert not explanation["edges"] and set(explanation["gates"]) == {"fusion_gates"}
    assert explanation["gates"]["fusion_gates"].shape[0] == 6
    assert save_figure(explanation_figure(explanation), str(tmp_path / "gates"), ("png",))
