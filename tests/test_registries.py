"""A dataset of your own and a metric of your own are each one registered function: the command
line, ``dialoggraph.run`` and the run's files pick them up."""
import json

import pytest
from sklearn.metrics import balanced_accuracy_score

import dialoggraph
from dialoggraph.cli import main
from dialoggraph.config import ConfigError
from dialoggraph.datasets import DATASETS, DatasetConfig, SyntheticDialogues, register_dataset
from dialoggraph.train import METRICS, TrainConfig, register_metric

FAST = {"epochs": 2, "batch_size": 8, "quiet": True}


@pytest.fixture
def calls():
    """``--dataset calls``: the synthetic task under another name, recognised by ``calls.json``."""
    @register_dataset("calls", markers=("calls.json",))
    def load_calls(config, split, pre_transform, cache_dir):
        return SyntheticDialogues(16 if split == "train" else 6, split, seed=3, pre_transform=pre_transform)
    yield
    del DATASETS["calls"]


@pytest.fixture
def balanced():
    @register_metric("balanced_accuracy")
    def balanced_accuracy(y_true, y_pred, labels):
        return balanced_accuracy_score(y_true, y_pred)
    yield
    del METRICS["balanced_accuracy"]


def test_a_registered_dataset_trains_by_name_and_by_its_marker(calls, tmp_path, capsys):
    root = tmp_path / "data"
    root.mkdir()
    (root / "calls.json").write_text("{}")
    assert DatasetConfig(root=str(root)).dataset == "calls"                 # recognised by its marker
    result = dialoggraph.run("mlp", {"dataset": "calls", "root": str(root)}, model_config={"hidden": 8},
                             train=FAST, out=str(tmp_path / "r"))
    assert result.results[0]["test"]["num_utterances"] > 0
    assert main(["train", "--model", "mlp", "--root", str(root), "--epochs", "1", "--quiet",
                 "--out", str(tmp_path / "cli")]) == 0
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("calls")(lambda *args: None)


def test_an_unknown_dataset_kind_is_refused_naming_the_kinds():
    with pytest.raises(ConfigError, match=r"dataset 'cals' is not a dataset kind \(synthetic, folder, meld"):
        DatasetConfig(dataset="cals", root=".")


def test_a_registered_metric_is_reported_summarised_and_monitored(balanced, tmp_path):
    result = dialoggraph.run("mlp", {"dataset": "synthetic", "num_dialogues": 16}, model_config={"hidden": 8},
                             train={**FAST, "monitor": "balanced_accuracy"}, out=str(tmp_path / "r"), seeds=[0, 1])
    metrics = json.loads((tmp_path / "r" / "seed0" / "metrics.json").read_text())
    assert 0 <= metrics["test"]["balanced_accuracy"] <= 1
    assert result.summary["test"]["balanced_accuracy"]["values"] == [r["test"]["balanced_accuracy"]
                                                                     for r in result.results]
    log = [json.loads(line) for line in open(tmp_path / "r" / "seed0" / "log.jsonl")]
    best = max(log, key=lambda e: e["val_balanced_accuracy"])               # the monitored metric chose it
    assert metrics["best_epoch"] == best["epoch"]
    with pytest.raises(ConfigError, match=r"monitor 'balanced' is not a metric \(accuracy, weighted_f1, macro_f1, "
                                          r"balanced_accuracy\)"):
        TrainConfig(monitor="balanced")
