"""The contract every registered model keeps (in the spirit of Hugging Face's model tester).

Each model runs on a small tri-modal synthetic batch with the edges it asks for. A new model
registered in ``dialoggraph.models`` must appear in ``SMALL`` (the test below says so).
"""
import dataclasses
import io
import re
import typing

import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.loader import DataLoader

from conftest import assert_dialogues_isolated
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.config import ConfigError, field_docs, field_hints, split_optional
from dialoggraph.data import DialogueValidationError
from dialoggraph.models import MODELS, DialogueModel, ModelConfig
from dialoggraph.nn import DAGConv
from dialoggraph.train.trainer import TrainConfig, training_loss

MODALITIES = ("text", "audio", "visual")
SMALL = {
    "amb_dsgdn": dict(hidden=16, graph_heads=2, heads=2, modalities=MODALITIES),
    "bigru": dict(hidden=16, modalities=MODALITIES),
    "cmgfe": dict(hidden=16, heads=2, modalities=MODALITIES),
    "dag_erc": dict(hidden=16, num_layers=2, modalities=MODALITIES),
    "lfvd": dict(hidden=16, heads=2, modalities=MODALITIES),
    "logreg": dict(modalities=MODALITIES),
    "mdget_mer": dict(hidden=16, heads=2, gue_layers=1, acme_layers=1, classifier_hidden=16,
                      modalities=MODALITIES),
    "mfcre": dict(channels=16, ffn_channels=32, encoder_ffn_channels=16, heads=2, classifier_hidden=16,
                  modalities=MODALITIES),
    "mlp": dict(hidden=16, modalities=MODALITIES),
}
NUM_CLASSES = 7


def build(name: str, seed: int = 0, device: str = "cpu"):
    """A small model and a batch of 8 dialogues, both on ``device`` (the device suite's: cpu unless
    ``pytest --device cuda``)."""
    cls = MODELS[name]
    torch.manual_seed(seed)
    config = cls.Config(**SMALL[name])
    data = SyntheticDialogues(8, "train", seed=3, max_len=7, pre_transform=cls.required_transform(config))
    batch = next(iter(DataLoader(data, batch_size=8)))
    return cls(data.meta["feature_dims"], NUM_CLASSES, config).to(device), batch.to(device)


def test_every_registered_model_is_in_the_contract_suite():
    assert set(MODELS) == set(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_dialogue_model_with_a_typed_documented_config_and_buildable_presets(name):
    cls = MODELS[name]
    assert issubclass(cls, DialogueModel) and issubclass(cls.Config, ModelConfig)
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    undocumented = [f for f in fields if len(field_docs(cls.Config).get(f, "")) < 10]
    assert undocumented == [], f"{name}: fields without a docstring: {undocumented}"
    assert "lr" not in fields and "weight_decay" not in fields          # TrainConfig's, once
    assert set(cls.optimizer) == {"lr", "weight_decay"}
    for preset_name, preset in cls.presets.items():
        assert isinstance(cls.preset(preset_name), cls.Config)
        TrainConfig(**preset.train)
        # a preset names its optimizer, so a change of the library defaults never changes a paper setting
        assert {"lr", "weight_decay"} <= set(preset.train), f"{name}.{preset_name}"


# The paper settings (the defaults of dialoggraph 0.2) that --preset paper must keep, whatever the defaults become.
PAPER = {
    "amb_dsgdn": ({"hidden": 512, "dropout": 0.2, "graph_dropout": 0.2, "window": 5}, {"lr": 6.8e-5, "weight_decay": 5e-5}),
    "dag_erc": ({"hidden": 300, "num_layers": 4, "dropout": 0.2, "input_dropout": 0.0}, {"lr": 5e-4, "weight_decay": 0.0}),
    "lfvd": ({"hidden": 256, "dropout": 0.1}, {"lr": 2.5e-4, "weight_decay": 7e-3}),
    "mdget_mer": ({"hidden": 256, "classifier_hidden": 256, "gue_dropout": 0.1, "acme_dropout": 0.3,
                   "classifier_dropout": 0.1, "input_dropout": 0.0}, {"lr": 2e-5, "weight_decay": 1e-5}),
    "mfcre": ({"dropout": 0.1, "mu1": 0.4, "mu2": 0.3, "swfc_temperature": 0.9, "swfc_alpha": 0.8, "swfc_gamma": 3.0},
              {"lr": 1e-5, "weight_decay": 1e-5, "epochs": 200, "scheduler": "step", "lr_step_epochs": 10,
               "lr_gamma": 0.95, "batch_size": 100}),
}


@pytest.mark.parametrize("name", sorted(PAPER))
def test_preset_paper_is_the_papers_setting(name):
    config, train = PAPER[name]
    preset = MODELS[name].preset("paper")
    assert {k: getattr(preset, k) for k in config} == config
    assert MODELS[name].presets["paper"].train == train


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_string_choice_is_a_literal_checked_on_construction(name):
    config_cls = MODELS[name].Config
    for field, hint in field_hints(config_cls).items():
        base = split_optional(hint)[1]
        assert base is not str or field == "dominant", \
            f"{name}.{field}: a free string; give it a Literal of its choices"
        literal = typing.get_args(base)[0] if typing.get_origin(base) is tuple else base
        if typing.get_origin(literal) is typing.Literal:
            bad = ("bogus",) if typing.get_origin(base) is tuple else "bogus"
            with pytest.raises(ConfigError, match=f"{config_cls.__name__}.{field} = .*must be"):
                config_cls(**{field: bad})


@pytest.mark.parametrize("name", sorted(SMALL))
def test_a_batch_without_the_needed_edges_is_refused_by_name(name):
    cls = MODELS[name]
    model = build(name)[0]
    config = model.config
    plain = next(iter(DataLoader(SyntheticDialogues(2, "dev", max_len=4), batch_size=2)))
    transform = cls.required_transform(config)
    if transform is None:
        assert model.required_edges == ()
        return
    with pytest.raises(DialogueValidationError, match=f"{cls.__name__} needs .*pre_transform={re.escape(repr(transform))}"):
        model(plain)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_dialogues_do_not_leak_into_each_other(name, device):
    model, batch = build(name, device=device)
    assert_dialogues_isolated(model.eval(), batch, MODALITIES, dialogue=2)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_batch_order_does_not_change_a_dialogues_output(name, device):
    model, batch = build(name, device=device)
    model.eval()
    dialogues = batch.to_data_list()
    order = [5, 2, 7, 0, 3, 6, 1, 4]
    shuffled = Batch.from_data_list([dialogues[i] for i in order])
    out = model(batch).logits
    out_shuffled = model(shuffled).logits
    ptr = batch["utterance"].ptr
    pieces = [out[ptr[i]:ptr[i + 1]] for i in order]
    assert torch.allclose(torch.cat(pieces), out_shuffled, atol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_parameter_receives_a_gradient(name, device):
    model, batch = build(name, device=device)
    model.train()
    torch.manual_seed(1)
    loss = training_loss(model(batch), batch["utterance"].y)
    loss.backward()
    # W_alpha's bias in a DAGConv adds the same score to every predecessor of a node, so the
    # softmax cancels it: its gradient is zero in the paper's model (autograd finds it to rounding).
    cancelled = {f"{m}.attention.bias" for m, module in model.named_modules() if isinstance(module, DAGConv)}
    dead = [n for n, p in model.named_parameters()
            if n not in cancelled and (p.grad is None or not bool((p.grad != 0).any()))]
    assert dead == [], f"{name}: parameters without gradient: {dead}"
    params = dict(model.named_parameters())
    assert all(params[n].grad is not None and not params[n].grad.any() for n in cancelled)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_save_load_round_trip_and_same_seed_same_output(name):
    model, batch = build(name, seed=4)
    twin, _ = build(name, seed=4)
    other, _ = build(name, seed=5)
    model.eval(), twin.eval(), other.eval()
    out = model(batch).logits
    assert torch.equal(out, twin(batch).logits)
    assert not torch.allclose(out, other(batch).logits)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(out, other(batch).logits)


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("scale", [0.0, 1e4])
def test_finite_outputs_and_loss_on_extreme_inputs(name, scale, device):
    model, batch = build(name, device=device)
    model.train()
    for m in MODALITIES:
        x = batch["utterance"][f"x_{m}"]
        batch["utterance"][f"x_{m}"] = x * scale if scale else torch.zeros_like(x)
    out = model(batch)
    loss = training_loss(out, batch["utterance"].y)
    assert torch.isfinite(out.logits).all() and torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
