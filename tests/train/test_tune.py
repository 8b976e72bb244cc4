"""dialoggraph tune: Optuna search on dev, resumable, pruned per epoch, best run as a run file."""
import csv
import sys

import pytest
import yaml

from dialoggraph.cli import main
from dialoggraph.datasets.factory import DatasetConfig
from dialoggraph.models import resolve_model
from dialoggraph.train import tune as tune_module
from dialoggraph.train.trainer import TrainConfig, Trainer
from dialoggraph.train.tune import tune

optuna = pytest.importorskip("optuna")
DATA = DatasetConfig(num_dialogues=24)
BIGRU = resolve_model("bigru")
FAST = {"epochs": 2, "patience": 2}


def trials_csv(out):
    with open(out / "trials.csv") as f:
        return list(csv.DictReader(f))


def test_the_best_trial_is_a_run_file_train_takes(tmp_path, capsys):
    best = tune(BIGRU, DATA, str(tmp_path / "study"), trials=3, fixed_train=FAST)
    rows = trials_csv(tmp_path / "study")
    assert len(rows) == 3 and {r["state"] for r in rows} == {"complete"}
    assert best["dev_weighted_f1"] == pytest.approx(max(float(r["dev_weighted_f1"]) for r in rows), abs=1e-6)
    run = yaml.safe_load((tmp_path / "study" / "best.yaml").read_text())
    chosen = rows[best["trial"]]
    assert run["train"]["lr"] == pytest.approx(float(chosen["lr"]))
    assert run["model_config"]["hidden"] == int(chosen["hidden"]) and run["train"]["epochs"] == 2
    assert main(["train", "--config", str(tmp_path / "study" / "best.yaml"), "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    used = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert used["train"]["lr"] == run["train"]["lr"] and used["model_config"] == run["model_config"]


def test_a_study_resumes_and_values_given_are_not_searched(tmp_path):
    out = str(tmp_path / "study")
    tune(BIGRU, DATA, out, trials=2, fixed_train={**FAST, "lr": 1e-3}, fixed_model={"hidden": 32})
    tune(BIGRU, DATA, out, trials=3, fixed_train={**FAST, "lr": 1e-3}, fixed_model={"hidden": 32})
    rows = trials_csv(tmp_path / "study")
    assert [r["trial"] for r in rows] == ["0", "1", "2"]                  # one more, not three more
    assert "lr" not in rows[0] and "hidden" not in rows[0] and "dropout" in rows[0]
    run = yaml.safe_load((tmp_path / "study" / "best.yaml").read_text())
    assert run["train"]["lr"] == 1e-3 and run["model_config"]["hidden"] == 32


def test_the_test_split_is_never_loaded(tmp_path, monkeypatch):
    asked = []
    real = tune_module.load_dataset
    monkeypatch.setattr(tune_module, "load_dataset", lambda data, split, pre=None: asked.append(split) or
                        real(data, split, pre))
    tune(BIGRU, DATA, str(tmp_path / "study"), trials=1, fixed_train=FAST)
    assert asked == ["train", "dev"]


def test_trials_are_pruned_on_their_dev_score_per_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(optuna.pruners, "MedianPruner", lambda **k: optuna.pruners.ThresholdPruner(lower=1.01))
    with pytest.raises(RuntimeError, match="no trial of the study .* finished"):
        tune(BIGRU, DATA, str(tmp_path / "study"), trials=2, fixed_train=FAST)
    rows = trials_csv(tmp_path / "study")
    assert [(r["state"], r["epochs"]) for r in rows] == [("pruned", "1"), ("pruned", "1")]


def test_a_callback_sees_every_epoch_and_can_stop_the_run():
    from dialoggraph.datasets import SyntheticDialogues
    from dialoggraph.train import Callback
    train, dev = SyntheticDialogues(12, "train"), SyntheticDialogues(4, "dev")
    seen = []

    class StopAtTwo(Callback):
        def on_epoch_end(self, trainer, record):
            seen.append((record["epoch"], round(record["val_weighted_f1"], 6)))
            if record["epoch"] == 2:
                raise KeyboardInterrupt
    trainer = Trainer("mlp", train, dev, TrainConfig(epochs=5, quiet=True), callbacks=[StopAtTwo()])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert [e for e, _ in seen] == [1, 2] and trainer.epoch == 2


def test_command_line(tmp_path, capsys, monkeypatch):
    assert main(["tune", "bigru", "--num-dialogues", "24", "--trials", "2", "--epochs", "1", "--hidden", "16",
                 "--out", str(tmp_path / "s")]) == 0
    said = capsys.readouterr().out
    assert "trial 0 (1/2): dev weighted F1 " in said and "trial 1 (2/2): " in said and "; best " in said
    assert "best dev weighted F1" in said and f"dialoggraph train --config {tmp_path / 's' / 'best.yaml'}" in said
    capsys.readouterr()
    assert main(["tune", "--model", "bigru", "--num-dialogues", "24", "--trials", "2", "--epochs", "1",
                 "--hidden", "16", "--out", str(tmp_path / "s")]) == 0          # as train names it; resumed
    assert "best dev weighted F1" in capsys.readouterr().out
    assert main(["tune", "mlp", "--model", "bigru", "--out", str(tmp_path / "t")]) == 2
    assert "two models named: 'mlp' and --model 'bigru'" in capsys.readouterr().err
    assert main(["tune", "bigru", "--trials", "0", "--out", str(tmp_path / "t")]) == 2
    assert "--trials must be >= 1" in capsys.readouterr().err
    assert main(["tune", "nosuchmodel", "--out", str(tmp_path / "t")]) == 2
    assert "unknown model 'nosuchmodel'" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "optuna", None)
    assert main(["tune", "bigru", "--out", str(tmp_path / "u")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == 'dialoggraph: error: dialoggraph tune needs optuna: pip install "dialoggraph[tune]"'


def test_the_speaker_window_is_searched_and_each_trial_reads_its_own_graphs(tmp_path, monkeypatch):
    """AMB-DSGDN's window is a search dimension (the paper: tune it on the data); a trial's
    splits carry the edges of its window, each window's splits loaded once."""
    import torch
    from dialoggraph.data.dialogue import INTER, INTRA
    from dialoggraph.transforms import SpeakerWindowGraph
    amb = resolve_model("amb_dsgdn")
    loads, seen = [], []
    real_load, real_trainer = tune_module.load_dataset, tune_module.Trainer
    monkeypatch.setattr(tune_module, "load_dataset",
                        lambda data, split, pre=None: loads.append((split, repr(pre))) or real_load(data, split, pre))

    def trainer(cls, train, dev, config, model_config, **kwargs):
        seen.append((model_config.window, train[0]))
        return real_trainer(cls, train, dev, config, model_config=model_config, **kwargs)
    monkeypatch.setattr(tune_module, "Trainer", trainer)
    tune(amb, DATA, str(tmp_path / "study"), trials=4, fixed_train={**FAST, "epochs": 1},
         fixed_model={"hidden": 16, "heads": 2, "modalities": ["text"]})
    rows = trials_csv(tmp_path / "study")
    assert [int(r["window"]) for r in rows] == [w for w, _ in seen]
    assert set(int(r["window"]) for r in rows) <= set(amb.Config.search_space()["window"].choices) and len(rows) == 4
    raw = real_load(DATA, "train")[0]
    for window, dialogue in seen:
        want = SpeakerWindowGraph(window, window)(raw.clone())
        for store in (INTRA, INTER):
            assert torch.equal(dialogue[store].edge_index, want[store].edge_index), (window, store)
    windows = {w for w, _ in seen}
    assert len(windows) > 1                                   # the seeded sampler tries several
    assert len(loads) == 2 * len(windows) and len(set(loads)) == len(loads)   # each window's splits once
    best = max((r for r in rows if r["state"] == "complete"), key=lambda r: float(r["dev_weighted_f1"]))
    run = yaml.safe_load((tmp_path / "study" / "best.yaml").read_text())
    assert run["model_config"]["window"] == int(best["window"])


def test_a_study_where_nothing_learned_says_so(tmp_path, capsys, monkeypatch):
    import dialoggraph.cli.tune as command
    best = {"dev_weighted_f1": 0.0, "trial": 0, "trials": 3, "train": {"lr": 1e-3}, "model_config": {}}
    monkeypatch.setattr(command, "tune", lambda *args, **kwargs: best)
    assert main(["tune", "--model", "mlp", "--out", str(tmp_path / "s")]) == 0
    assert "warning: nothing learned: every trial scored 0.00" in capsys.readouterr().err


WIDTH_OR_DROPOUT = ("hidden", "channels")


def test_every_registered_models_widths_and_dropouts_are_searched():
    """A width (``hidden``, ``channels``, ``*_hidden``, ``*_channels``) or a dropout a model's
    config has is either in its search space or named in ``not_searched`` with a reason."""
    import dataclasses

    from dialoggraph.config import field_hints
    from dialoggraph.models import MODELS

    for name, cls in MODELS.items():
        space, skipped = cls.Config.search_space(), cls.Config.not_searched
        hints = field_hints(cls.Config)
        for field in dataclasses.fields(cls.Config):
            hint = hints[field.name]
            tunable = (hint is int and field.name.endswith(WIDTH_OR_DROPOUT)) or \
                (hint is float and field.name.endswith("dropout"))
            if tunable:
                assert field.name in space or skipped.get(field.name), f"{name}: {field.name} is never tuned"
        assert all(f in {g.name for g in dataclasses.fields(cls.Config)} for f in space), name


def test_a_trial_samples_the_models_own_search_space():
    from dialoggraph.models import MFCRE
    from dialoggraph.train.tune import sample
    optuna = pytest.importorskip("optuna")
    trial = optuna.trial.FixedTrial({"lr": 1e-3, "weight_decay": 1e-5, "batch_size": 8, "scheduler": "none",
                                     "channels": 128, "ffn_channels": 512, "encoder_ffn_channels": 64,
                                     "classifier_hidden": 256, "dropout": 0.2, "turns": 1, "input_dropout": 0.1})
    model, train = sample(trial, MFCRE, {"turns": 2}, {})
    assert model == {"channels": 128, "ffn_channels": 512, "encoder_ffn_channels": 64, "classifier_hidden": 256,
                     "dropout": 0.2, "turns": 2, "input_dropout": 0.1}
    assert train == {"lr": 1e-3, "weight_decay": 1e-5, "batch_size": 8, "scheduler": "none"}
