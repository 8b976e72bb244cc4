"""The model contract from a user's side: a model written outside the package, typed configs,
the registry, and the Trainer taking an instance, a class, a name or an import path."""
from dataclasses import dataclass
from typing import Literal

import pytest
import torch
from torch_geometric.loader import DataLoader

from dialoggraph.config import ConfigError, field_docs, from_dict, to_dict
from dialoggraph.data import NODE, DialogueValidationError
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import (AMBDSGDN, AMBDSGDNConfig, MODELS, DialogueModel, ModelConfig, ModelOutput,
                                register, resolve_model)
from dialoggraph.nn import DialogueGRU
from dialoggraph.train.checkpoint import load_model
from dialoggraph.train.trainer import TrainConfig, Trainer
from dialoggraph.transforms import SpeakerWindowGraph


@dataclass
class TinyConfig(ModelConfig):
    hidden: int = 16
    """Width of the GRU state."""
    pooling: Literal["last", "none"] = "none"
    """A choice, to check Literal validation."""
    modalities: tuple[str, ...] = ("text",)
    """What the model reads."""


class TinyGRU(DialogueModel):
    """A model as a user would write it: a DialogueGRU and a linear head."""

    Config = TinyConfig

    def __init__(self, in_dims, num_classes, config=None):
        super().__init__(in_dims, num_classes, config)
        self.gru = DialogueGRU(in_dims["text"], self.config.hidden)
        self.out = torch.nn.Linear(self.config.hidden, num_classes)

    def forward(self, batch):
        store = batch[NODE]
        return ModelOutput(self.out(self.gru(store.x_text, store.get("batch"))))


class WindowGRU(TinyGRU):
    """The same, declaring that it reads the speaker-window edges."""

    @classmethod
    def required_transform(cls, config):
        return SpeakerWindowGraph(2, 2)


@pytest.fixture(scope="module")
def data():
    return SyntheticDialogues(24, "train", max_len=6), SyntheticDialogues(8, "dev", max_len=6)


def test_a_notebook_model_trains_through_the_trainer_as_an_instance(data, tmp_path):
    train, dev = data
    model = TinyGRU(train.meta["feature_dims"], train.num_classes)
    trainer = Trainer(model, train, dev, TrainConfig(epochs=2, batch_size=8, lr=1e-2, quiet=True),
                      out_dir=str(tmp_path))
    result = trainer.fit(dev)
    assert trainer.model is model and result["best_epoch"] >= 1 and 0 <= result["test"]["weighted_f1"] <= 1
    assert trainer.config.lr == 1e-2 and trainer.config.weight_decay == DialogueModel.optimizer["weight_decay"]
    # a class defined in this test module is saved by import path and rebuilt from the checkpoint
    rebuilt, state = load_model(str(tmp_path / "best.pt"))
    assert state["model"] == f"{__name__}:TinyGRU" and isinstance(rebuilt, TinyGRU)


def test_the_trainer_takes_a_class_or_a_name_and_seeds_the_weights(data):
    train, dev = data
    config = TrainConfig(epochs=1, batch_size=8, seed=7, quiet=True)
    a, b = Trainer(TinyGRU, train, dev, config), Trainer(TinyGRU, train, dev, config)
    assert all(torch.equal(p, q) for p, q in zip(a.model.parameters(), b.model.parameters()))
    by_name = Trainer("mlp", train, dev, config)
    assert by_name.model_spec == "mlp" and by_name.model.modalities == ("text", "audio", "visual")   # all it has
    assert by_name.config.lr == MODELS["mlp"].optimizer["lr"]         # the model's recommendation
    with pytest.raises(TypeError, match="not a dialoggraph.models.DialogueModel"):
        Trainer(torch.nn.Linear(2, 2), train, dev, config)


def test_default_config_keeps_the_modalities_the_data_has():
    assert AMBDSGDN.default_config(["text", "visual"]).modalities == ("text", "visual")
    assert AMBDSGDN.default_config(["text"], hidden=8).hidden == 8
    with pytest.raises(ConfigError, match="none of AMBDSGDN's modalities"):
        AMBDSGDN.default_config(["smell"])


def test_the_base_class_refuses_a_batch_without_the_edges_it_declared(data):
    train, _ = data
    model = WindowGRU(train.meta["feature_dims"], train.num_classes)
    assert model.required_edges == (("utterance", "intra_speaker", "utterance"),
                                    ("utterance", "inter_speaker", "utterance"))
    with pytest.raises(DialogueValidationError, match=r"WindowGRU needs the 'intra_speaker', 'inter_speaker' "
                                                      r"edges: build the dataset with pre_transform=SpeakerWindow"):
        model(_batch(train))
    with_edges = SyntheticDialogues(4, "dev", max_len=6, pre_transform=SpeakerWindowGraph(2, 2))
    assert model(_batch(with_edges)).logits.shape == (with_edges._data[NODE].num_nodes, 7)


def _batch(dataset):
    return next(iter(DataLoader(dataset, batch_size=len(dataset))))


def test_configs_are_checked_on_construction_naming_class_and_field():
    with pytest.raises(ConfigError, match=r"TinyConfig.pooling = 'first': must be one of 'last', 'none'"):
        TinyConfig(pooling="first")
    with pytest.raises(ConfigError, match=r"TinyConfig.hidden = 'wide': must be an integer"):
        TinyConfig(hidden="wide")
    with pytest.raises(ConfigError, match=r"TinyConfig.hidden = True"):
        TinyConfig(hidden=True)
    assert TinyConfig(modalities=["text", "audio"]).modalities == ("text", "audio")      # lists become tuples
    assert TrainConfig(lr=1).lr == 1.0 and isinstance(TrainConfig(lr=1).lr, float)
    with pytest.raises(ConfigError, match="TrainConfig.scheduler"):
        TrainConfig(scheduler="linear")
    with pytest.raises(ConfigError, match="TinyGRU takes a TinyConfig, got AMBDSGDNConfig"):
        TinyGRU({"text": 4}, 3, AMBDSGDNConfig())
    with pytest.raises(ConfigError, match="non-empty subset"):
        TinyGRU({"audio": 4}, 3)
    assert field_docs(TinyConfig) == {"hidden": "Width of the GRU state.",
                                      "pooling": "A choice, to check Literal validation.",
                                      "modalities": "What the model reads.",
                                      "input_dropout": "Dropout on every modality's input features while training "
                                                       "(:meth:`DialogueModel.input_features`)."}


def test_dict_round_trip_renamed_fields_and_unknown_ones():
    config = AMBDSGDNConfig(hidden=64, graph_heads=4, heads=2)
    assert from_dict(AMBDSGDNConfig, to_dict(config)) == config
    # a config written before 0.2: heads meant the graph heads, transformer_heads the encoder's; lr lived here
    old = {"hidden": 64, "heads": 4, "transformer_heads": 2, "lr": 1e-3}
    assert from_dict(AMBDSGDNConfig, old, legacy=True) == config
    assert from_dict(AMBDSGDNConfig, {"transformer_heads": 2}).heads == 2          # an old name, not a field today
    with pytest.raises(ConfigError, match="run.yaml: AMBDSGDNConfig has no field 'hiden'"):
        from_dict(AMBDSGDNConfig, {"hiden": 3}, "run.yaml")


def test_registering_the_same_class_again_is_harmless_another_is_refused():
    try:
        register("tiny_gru")(TinyGRU)
        register("tiny_gru")(TinyGRU)

        class TinyGRU2(TinyGRU):
            pass
        TinyGRU2.__qualname__ = "TinyGRU"          # a re-run notebook cell defines a new class of the same name
        register("tiny_gru")(TinyGRU2)
        assert MODELS["tiny_gru"] is TinyGRU2 and resolve_model("tiny_gru") is TinyGRU2
        with pytest.raises(ValueError, match="'tiny_gru' is taken by"):
            register("tiny_gru")(WindowGRU)
        with pytest.raises(TypeError, match="not a DialogueModel"):
            register("linear")(torch.nn.Linear)
    finally:
        MODELS.pop("tiny_gru", None)


def test_resolve_model_by_name_import_path_or_class():
    assert resolve_model("amb_dsgdn") is AMBDSGDN is resolve_model(AMBDSGDN)
    assert resolve_model(f"{__name__}:TinyGRU") is TinyGRU
    for spec, message in (("nope", "unknown model 'nope'"), ("no_such_module:X", "cannot import"),
                          (f"{__name__}:Missing", "has no 'Missing'"), ("torch.nn:Linear", "not a dialoggraph")):
        with pytest.raises(ConfigError, match=message):
            resolve_model(spec)



def test_the_custom_model_example_trains_through_the_trainer_and_the_cli(monkeypatch, tmp_path):
    from pathlib import Path

    from dialoggraph.cli import main
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "examples"))
    example = __import__("custom_model")
    config = example.ContextGraphGRUConfig(hidden=16)
    graphs = example.ContextGraphGRU.required_transform(config)
    train, dev = (SyntheticDialogues(n, split, max_len=6, pre_transform=graphs) for n, split in ((24, "train"),
                                                                                                (8, "dev")))
    model = example.ContextGraphGRU(train.meta["feature_dims"], train.num_classes, config)
    result = Trainer(model, train, dev, TrainConfig(epochs=2, batch_size=8, quiet=True)).fit(dev)
    assert 0 <= result["test"]["weighted_f1"] <= 1 and set(model(_batch(dev)).attention) == {"modality_gates"}
    assert main(["train", "--model", "custom_model:ContextGraphGRU", "--hidden", "16", "--num-dialogues", "16",
                 "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 0
