import functools
import json
import os

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from dialoggraph.config import ConfigError
from dialoggraph.data import DialogueValidationError
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDNConfig
from dialoggraph.models.baselines import BaselineConfig
from dialoggraph.train.checkpoint import CheckpointError, load_checkpoint
from dialoggraph.train.checkpoint import load_model
from dialoggraph.train.trainer import TrainConfig, Trainer
from dialoggraph.train.metrics import classification_metrics, summarize_seeds
from dialoggraph.transforms import SpeakerWindowGraph

LABELS = SyntheticDialogues(1).label_names


@functools.lru_cache(maxsize=None)
def make_splits():
    pre = SpeakerWindowGraph(2, 2)
    return tuple(SyntheticDialogues(n, s, seed=0, max_len=8, pre_transform=pre)
                 for n, s in ((24, "train"), (8, "dev"), (8, "test")))


@pytest.fixture(scope="module")
def splits():
    return make_splits()


def trainer(out_dir, epochs=2, seed=0, patience=10, lr=None, model="mlp", **kwargs):
    config = BaselineConfig(hidden=16, modalities=("text",)) if model == "mlp" else \
        AMBDSGDNConfig(hidden=16, graph_heads=2, heads=2, window=2, warmup_epochs=1)
    if lr is None and model != "mlp":
        lr = 1e-3
    train, dev, _ = make_splits()
    return Trainer(model, train, dev, TrainConfig(epochs=epochs, batch_size=8, seed=seed, patience=patience,
                                                  quiet=True, lr=lr, deterministic=True),
                   model_config=config, out_dir=out_dir, **kwargs)


def test_metrics_match_sklearn_and_skip_unlabeled():
    y = np.array([0, 1, 2, 2, -1, 1])
    p = np.array([0, 2, 2, 2, 1, 1])
    m = classification_metrics(y, p, ["a", "b", "c"])
    keep = y >= 0
    assert m["accuracy"] == pytest.approx(4 / 5)
    assert m["weighted_f1"] == pytest.approx(f1_score(y[keep], p[keep], average="weighted"))
    assert m["macro_f1"] == pytest.approx(f1_score(y[keep], p[keep], average="macro"))
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 2]]
    assert m["num_utterances"] == 5 and set(m["per_class_f1"]) == {"a", "b", "c"}
    s = summarize_seeds([{"accuracy": 0.5, "weighted_f1": 0.4, "macro_f1": 0.1},
                         {"accuracy": 0.7, "weighted_f1": 0.6, "macro_f1": 0.3}])
    assert s["accuracy"]["mean"] == pytest.approx(0.6) and s["accuracy"]["std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))


def test_fit_writes_checkpoints_log_and_metrics(tmp_path, splits):
    result = trainer(str(tmp_path), epochs=3, model="amb_dsgdn").fit(splits[2])
    files = set(os.listdir(tmp_path))
    assert {"best.pt", "last.pt", "log.jsonl", "metrics.json"} <= files
    assert not [f for f in files if f.startswith(".tmp-")]
    log = [json.loads(line) for line in open(tmp_path / "log.jsonl")]
    assert [entry["epoch"] for entry in log] == [1, 2, 3]
    metrics = json.load(open(tmp_path / "metrics.json"))
    assert metrics == json.loads(json.dumps(result))
    for split in ("val", "test"):
        for key in ("accuracy", "weighted_f1", "macro_f1"):
            assert 0.0 <= metrics[split][key] <= 1.0
        assert len(metrics[split]["confusion_matrix"]) == 7
    assert metrics["best_epoch"] == max(log, key=lambda e: e["val_weighted_f1"])["epoch"]
    state = load_checkpoint(str(tmp_path / "best.pt"))             # weights_only=True
    assert state["model"] == "amb_dsgdn" and state["label_names"] == LABELS and state["version"]
    model, _ = load_model(str(tmp_path / "best.pt"))
    assert not model.training
    with pytest.raises(FileExistsError, match="holds a run .*pass --overwrite"):
        trainer(str(tmp_path), epochs=2)                            # never silently replaced
    trainer(str(tmp_path), epochs=2, overwrite=True).fit(splits[2])
    assert [json.loads(line)["epoch"] for line in open(tmp_path / "log.jsonl")] == [1, 2]


def test_same_seed_same_result_and_resume_continues(tmp_path, splits):
    a = trainer(str(tmp_path / "a"), epochs=4, seed=3).fit(splits[2])
    b = trainer(str(tmp_path / "b"), epochs=4, seed=3).fit(splits[2])
    assert a["test"] == b["test"]
    first = trainer(str(tmp_path / "c"), epochs=2, seed=3)
    first.fit(splits[2])
    resumed = trainer(str(tmp_path / "c"), epochs=4, seed=3, resume=str(tmp_path / "c" / "last.pt"))
    assert resumed.epoch == 2
    resumed.fit(splits[2])
    log = [json.loads(line) for line in open(tmp_path / "c" / "log.jsonl")]
    assert [entry["epoch"] for entry in log] == [1, 2, 3, 4]


def test_early_stopping(tmp_path, splits):
    result = trainer(str(tmp_path), epochs=20, patience=2, lr=0.0).fit(splits[2])   # lr 0: never improves
    assert result["epochs_run"] == 3 and result["best_epoch"] == 1


def test_interrupted_save_keeps_the_last_good_checkpoint(tmp_path, splits, monkeypatch):
    t = trainer(str(tmp_path), epochs=1)
    t.fit(splits[2])
    good = (tmp_path / "last.pt").read_bytes()

    def explode(obj, f):
        f.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", explode)
    t.config.epochs = 2
    with pytest.raises(KeyboardInterrupt):
        t.fit(splits[2])
    monkeypatch.undo()
    assert (tmp_path / "last.pt").read_bytes() == good
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


def test_bad_checkpoints(tmp_path, splits):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(str(tmp_path / "junk.pt"))
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(str(tmp_path / "missing.pt"))
    t = trainer(str(tmp_path / "run"), epochs=1)
    t.fit(splits[2])
    with pytest.raises(CheckpointError, match="model 'mlp', not 'amb_dsgdn'"):
        trainer(None, model="amb_dsgdn", resume=str(tmp_path / "run" / "last.pt"))


def test_a_non_finite_loss_stops_training_and_keeps_the_checkpoints(tmp_path, splits):
    t = trainer(str(tmp_path), epochs=1)
    t.fit(splits[2])
    good = (tmp_path / "last.pt").read_bytes()
    with torch.no_grad():
        next(t.model.parameters()).fill_(float("nan"))
    t.config.epochs = 2
    with pytest.raises(FloatingPointError, match="not finite at epoch 2, step 1"):
        t.fit(splits[2])
    assert (tmp_path / "last.pt").read_bytes() == good


def weights(path):
    return load_checkpoint(str(path))["model_state"]


def test_a_resumed_run_ends_bit_for_bit_where_an_uninterrupted_one_does(tmp_path, splits):
    """AMB-DSGDN draws dropout and modality-dropout randomness; every RNG restarts from the epoch's seed."""
    whole = trainer(str(tmp_path / "whole"), epochs=4, seed=5, model="amb_dsgdn").fit(splits[2])
    trainer(str(tmp_path / "cut"), epochs=2, seed=5, model="amb_dsgdn").fit(splits[2])
    torch.manual_seed(123)              # what ran in between must not matter
    np.random.seed(7)
    resumed = trainer(str(tmp_path / "cut"), epochs=4, seed=5, model="amb_dsgdn",
                      resume=str(tmp_path / "cut" / "last.pt")).fit(splits[2])
    a, b = weights(tmp_path / "whole" / "last.pt"), weights(tmp_path / "cut" / "last.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["test"] == whole["test"] and resumed["best_epoch"] == whole["best_epoch"]
    opt_a = load_checkpoint(str(tmp_path / "whole" / "last.pt"))["optimizer_state"]["state"]
    opt_b = load_checkpoint(str(tmp_path / "cut" / "last.pt"))["optimizer_state"]["state"]
    assert all(torch.equal(opt_a[i]["exp_avg"], opt_b[i]["exp_avg"]) for i in opt_a)


def test_the_best_epoch_is_restored_without_an_out_dir(splits):
    t = trainer(None, epochs=6, seed=1, lr=0.05)
    result = t.fit(splits[2])
    again = trainer(None, epochs=result["best_epoch"], seed=1, lr=0.05).fit(splits[2])
    assert result["test"] == again["test"]          # the best epoch's weights, not the last epoch's


def test_everything_checkable_is_checked_before_the_first_epoch(tmp_path, splits, monkeypatch):
    train, dev, test = splits
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="device 'cuda': this torch build sees no CUDA GPU"):
        Trainer("mlp", train, dev, TrainConfig(device="cuda"))
    wide = SyntheticDialogues(8, "dev", seed=0, max_len=8, dims={"text": 64, "audio": 64, "visual": 64})
    with pytest.raises(DialogueValidationError, match="dev split's 'text' features are 64 wide, the model's 128"):
        Trainer("mlp", train, wide, TrainConfig())
    with pytest.raises(DialogueValidationError, match="dev split is empty"):
        Trainer("mlp", train, [], TrainConfig())
    unlabelled = [d.clone() for d in dev]
    for d in unlabelled:
        d["utterance"].y[:] = -1
    with pytest.raises(DialogueValidationError, match="dev split has no labelled utterance"):
        Trainer("mlp", train, unlabelled, TrainConfig(), label_names=LABELS)
    (tmp_path / "file").write_text("")
    with pytest.raises(PermissionError, match="cannot write the run to .*choose another --out"):
        Trainer("mlp", train, dev, TrainConfig(), out_dir=str(tmp_path / "file" / "run"))
    t = Trainer("mlp", train, dev, TrainConfig(epochs=1, quiet=True))
    with pytest.raises(DialogueValidationError, match="test split's 'text' features are 64 wide"):
        t.fit(SyntheticDialogues(8, "test", seed=0, max_len=8, dims={"text": 64, "audio": 64, "visual": 64}))
    assert t.epoch == 0                               # refused before training
    result = t.fit(unlabelled)                        # a test split without labels: metrics skipped, said so
    assert result["test"] is None and "no labels" in result["notes"][0]


def test_the_learning_rate_of_every_step_follows_warm_up_and_schedule():
    from dialoggraph.train.trainer import lr_factor
    flat = TrainConfig(epochs=10, lr_warmup_epochs=2)
    assert [lr_factor(flat, s, 4) for s in range(9)] == pytest.approx([1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8,
                                                                      7 / 8, 1, 1])
    cosine = TrainConfig(epochs=10, scheduler="cosine")
    assert lr_factor(cosine, 0, 4) == 1 and lr_factor(cosine, 20, 4) == pytest.approx(0.5)
    assert lr_factor(cosine, 39, 4) == pytest.approx(0.5 * (1 + np.cos(np.pi * 39 / 40)))
    both = TrainConfig(epochs=10, scheduler="cosine", lr_warmup_epochs=1)
    assert lr_factor(both, 1, 4) == pytest.approx(0.5 * 0.5 * (1 + np.cos(np.pi * 1 / 40)))
    step = TrainConfig(epochs=10, scheduler="step", lr_step_epochs=2, lr_gamma=0.5)
    assert [lr_factor(step, s, 4) for s in (0, 7, 8, 16, 39)] == [1, 1, 0.5, 0.25, 0.5 ** 4]
    with pytest.raises(ConfigError, match="lr_warmup_epochs"):
        TrainConfig(lr_warmup_epochs=-1)


def test_the_optimizer_steps_with_the_scheduled_rate(tmp_path, splits, monkeypatch):
    """Each AdamW step uses lr x lr_factor(step); a resumed run continues the schedule where it stopped."""
    seen = []
    step = torch.optim.AdamW.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", record)
    train = make_splits()[0]                  # 24 dialogues, batch 8: 3 steps an epoch
    config = dict(epochs=4, lr=0.01, scheduler="cosine", lr_warmup_epochs=1)
    t = Trainer("mlp", train, make_splits()[1], TrainConfig(batch_size=8, quiet=True, **config),
                model_config=BaselineConfig(hidden=8), out_dir=str(tmp_path / "b"))
    t.fit()
    expected = [0.01 * (s + 1) / 3 * 0.5 * (1 + np.cos(np.pi * s / 12)) if s < 3 else
                0.01 * 0.5 * (1 + np.cos(np.pi * s / 12)) for s in range(12)]
    assert seen == pytest.approx(expected)
    seen.clear()
    Trainer("mlp", train, make_splits()[1], TrainConfig(batch_size=8, quiet=True, **{**config, "epochs": 2}),
            model_config=BaselineConfig(hidden=8), out_dir=str(tmp_path / "c")).fit()
    seen.clear()
    Trainer("mlp", train, make_splits()[1], TrainConfig(batch_size=8, quiet=True, **config),
            model_config=BaselineConfig(hidden=8), out_dir=str(tmp_path / "c"),
            resume=str(tmp_path / "c" / "last.pt")).fit()
    assert seen == pytest.approx(expected[6:])
