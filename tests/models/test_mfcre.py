import pytest
import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import MFCRE, MFCREConfig, resolve_model
from dialoggraph.train.trainer import training_loss
from conftest import assert_dialogues_isolated, loss_after_training

ALL = ("text", "audio", "visual")


@pytest.fixture(scope="module")
def batch():
    data = SyntheticDialogues(10, "train", seed=3, max_len=8)
    return next(iter(DataLoader(data, batch_size=10))), data.meta["feature_dims"]


def small(**kwargs):
    return MFCREConfig(**{"channels": 16, "ffn_channels": 32, "encoder_ffn_channels": 16, "heads": 2,
                          "classifier_hidden": 16, "turns": 1, **kwargs})


def test_registered_presets_and_eq_15(batch):
    b, dims = batch
    assert resolve_model("mfcre") is MFCRE
    assert MFCRE.preset("iemocap").multiattn_layers == 6 and MFCREConfig().multiattn_layers == 2
    meld = MFCREConfig()                  # the authors' MELD script
    assert (meld.mu1, meld.mu2, meld.swfc_temperature, meld.swfc_alpha, meld.swfc_gamma) == (0.3, 0.3, 1.4, 1.2, 3.0)
    assert (meld.channels, meld.ffn_channels, meld.heads, meld.dropout) == (256, 1024, 4, 0.0)
    torch.manual_seed(0)
    model = MFCRE(dims, 7, small()).train()
    out = model(b)
    assert out.logits.shape == (b["utterance"].num_nodes, 7) and set(out.aux_losses) == {"swfc", "soft_hgr"}
    y = b["utterance"].y
    ce = F.cross_entropy(out.logits[y >= 0], y[y >= 0])
    total = training_loss(out, y)
    # train.py: SWFC x 0.3 + Soft-HGR x 0.3 + CE x 0.4
    assert torch.allclose(total, 0.4 * ce + out.aux_losses["swfc"] + out.aux_losses["soft_hgr"])
    node_batch = b["utterance"].batch
    f = {m: model.encoder[m](model.crn[m](model.project[m](b["utterance"][f"x_{m}"]), node_batch), node_batch)
         for m in ALL}
    f = model.multi_attn(f, node_batch)
    z = model.fc(torch.cat([f[m] for m in ALL], dim=-1))
    assert torch.allclose(out.aux_losses["swfc"], 0.3 * model.swfc(z, y), atol=1e-5)
    assert torch.allclose(out.aux_losses["soft_hgr"], 0.3 * model.soft_hgr(f), atol=1e-6)
    assert model.eval()(b).aux_losses == {}
    with pytest.raises(ValueError, match="mu1"):
        MFCRE(dims, 7, small(mu1=0.6, mu2=0.4))


def test_swfc_weighs_classes_by_the_training_sets_counts(batch):
    b, dims = batch
    data = SyntheticDialogues(6, "train", seed=5, max_len=8)
    model = MFCRE(dims, 7, small())
    assert model.fit_outright(data, data) is None                      # the trainer then runs its epochs
    y = torch.cat([d["utterance"].y for d in data])
    assert model.swfc.class_counts.tolist() == torch.bincount(y, minlength=7).float().tolist()
    counts = model.swfc.class_counts
    weight = (counts.sum() / counts.clamp(min=1)) ** 1.2
    assert torch.allclose(model.swfc.class_weights(b["utterance"].y), weight / weight[counts > 0].sum())
    assert "swfc.class_counts" in model.state_dict()                   # saved with the checkpoint
    batch_counts = MFCRE(dims, 7, small(swfc_counts="batch"))
    batch_counts.fit_outright(data, data)
    assert not batch_counts.swfc.class_counts.any()


@pytest.mark.parametrize("modalities", [("text",), ("audio",), ("text", "visual"), ("audio", "visual")])
def test_every_modality_subset(batch, modalities):
    b, dims = batch
    out = MFCRE(dims, 7, small(modalities=modalities)).train()(b)
    assert torch.isfinite(out.logits).all() and ("soft_hgr" in out.aux_losses) == (len(modalities) > 1)
    assert out.ce_weight == pytest.approx(0.4 if len(modalities) > 1 else 0.7)


@pytest.mark.parametrize("ablation,missing", [
    (dict(use_dialogue_crn=False), "crn"), (dict(simam_attention=False), None),
    (dict(use_modality_encoder=False), None), (dict(fusion="concat"), "multi_attn"),
    (dict(mu1=0.0), "swfc"), (dict(mu2=0.0), "soft_hgr")])
def test_table_4_ablations(batch, ablation, missing):
    b, dims = batch
    model = MFCRE(dims, 7, small(**ablation)).train()
    out = model(b)
    assert torch.isfinite(training_loss(out, b["utterance"].y))
    if missing in ("crn", "multi_attn"):
        assert getattr(model, missing) is None
    elif missing:
        assert missing not in out.aux_losses
    if "simam_attention" in ablation:
        assert not any(crn.situation.use_simam or crn.speaker.use_simam for crn in model.crn.values())
    if "use_modality_encoder" in ablation:
        assert all(isinstance(e, torch.nn.Linear) for e in model.encoder.values())
    assert out.ce_weight == pytest.approx(1 - model.config.mu1 - model.config.mu2)   # three modalities


def test_no_leakage_between_dialogues(batch):
    b, dims = batch
    assert_dialogues_isolated(MFCRE(dims, 7, small()).eval(), b, ALL)


def test_training_steps_reduce_the_loss(batch):
    b, dims = batch
    torch.manual_seed(0)
    model = MFCRE(dims, 7, small(dropout=0.0, mu1=0.0, mu2=0.0))
    first, last = loss_after_training(model, b, steps=20, lr=0.003)
    assert last < 0.5 * first
