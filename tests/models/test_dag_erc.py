import pytest
import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import DAGERC, DAGERCConfig, resolve_model
from dialoggraph.transforms import DAGGraph


@pytest.fixture(scope="module")
def data():
    return SyntheticDialogues(24, "train", seed=0, max_len=12, pre_transform=DAGGraph())


def test_registry_and_shapes(data):
    assert resolve_model("dag_erc") is DAGERC
    model = DAGERC(data.meta["feature_dims"], data.num_classes,
                   DAGERCConfig(hidden=16, num_layers=2, modalities=("text", "audio")))
    batch = next(iter(DataLoader(data, batch_size=8)))
    out = model(batch)
    assert out.logits.shape == (batch["utterance"].num_nodes, 7)
    assert out.aux_losses == {}
    with pytest.raises(ValueError, match="non-empty subset"):
        DAGERC(data.meta["feature_dims"], 7, DAGERCConfig(modalities=("smell",)))


def test_every_modality_subset_runs(data):
    batch = next(iter(DataLoader(data, batch_size=4)))
    for modalities in [("text",), ("audio",), ("visual",), ("text", "visual"), ("text", "audio", "visual")]:
        model = DAGERC(data.meta["feature_dims"], 7, DAGERCConfig(hidden=8, num_layers=1, modalities=modalities))
        assert torch.isfinite(model(batch).logits).all()


def test_no_leakage_between_dialogues_or_from_the_future(data):
    model = DAGERC(data.meta["feature_dims"], 7, DAGERCConfig(hidden=8, num_layers=2)).eval()
    batch = next(iter(DataLoader(data, batch_size=3)))
    logits = model(batch).logits
    nodes = batch["utterance"]
    last = int((nodes.batch == 0).nonzero().max())
    changed = batch.clone()
    changed["utterance"].x_text[last] += 5.0
    after = model(changed).logits
    untouched = torch.arange(nodes.num_nodes) != last
    assert torch.allclose(logits[untouched], after[untouched], atol=1e-6)


def test_missing_dag_edges_is_a_clear_error():
    plain = SyntheticDialogues(2, "dev", max_len=5)
    model = DAGERC(plain.meta["feature_dims"], 7, DAGERCConfig(hidden=8, num_layers=1))
    with pytest.raises(ValueError, match="pre_transform=DAGGraph"):
        model(next(iter(DataLoader(plain, batch_size=2))))


def test_training_steps_reduce_the_loss(data):
    torch.manual_seed(0)
    model = DAGERC(data.meta["feature_dims"], 7, DAGERCConfig(hidden=32, num_layers=1, dropout=0.0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = next(iter(DataLoader(data, batch_size=8)))
    losses = []
    for _ in range(12):
        loss = F.cross_entropy(model(batch).logits, batch["utterance"].y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
