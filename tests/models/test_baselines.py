"""The logistic-regression floor is scikit-learn's fit, folded into one linear layer."""
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import LogisticRegressionConfig, LogisticRegressionFloor
from dialoggraph.models.baselines import utterance_table
from dialoggraph.train.evaluation import predict
from dialoggraph.train.trainer import TrainConfig, Trainer
from dialoggraph.train.checkpoint import load_checkpoint

MODALITIES = ("text", "audio")


@pytest.fixture(scope="module")
def splits():
    return tuple(SyntheticDialogues(n, s, seed=2, max_len=8) for n, s in ((30, "train"), (10, "dev"), (10, "test")))


def sklearn_reference(train, dev, test, Cs, scalings=("standard", "none")):
    """The same choice written with scikit-learn alone: (scaler, C) with the best dev weighted F1, the first of ties."""
    x, y = utterance_table(train, MODALITIES)
    xd, yd = utterance_table(dev, MODALITIES)
    fits = {(s, C): (make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)) if s == "standard"
                     else LogisticRegression(C=C, max_iter=1000)).fit(x, y) for s in scalings for C in Cs}
    best = max(fits, key=lambda k: f1_score(yd, fits[k].predict(xd), average="weighted"))
    return best, fits[best].predict_proba(utterance_table(test, MODALITIES)[0])


@pytest.mark.parametrize("scaling", ["choose", "standard", "none"])
def test_the_floor_predicts_what_scikit_learn_predicts(splits, scaling):
    train, dev, test = splits
    Cs = (0.001, 0.1, 10.0)
    model = LogisticRegressionFloor(train.meta["feature_dims"], train.num_classes,
                                    LogisticRegressionConfig(modalities=MODALITIES, Cs=Cs, scaling=scaling))
    facts = model.fit_outright(train, dev)
    (chosen, C), expected = sklearn_reference(train, dev, test, Cs,
                                              ("standard", "none") if scaling == "choose" else (scaling,))
    assert (facts["scaling"], facts["C"]) == (chosen, C) and float(model.C) == C
    assert len(facts["dev_weighted_f1"]) == len(Cs) * (2 if scaling == "choose" else 1)
    out = predict(model, test)
    np.testing.assert_allclose(out["probs"][out["y"] >= 0], expected, atol=1e-4)
    assert facts["train_loss"] > 0


def binary(dataset):
    """The dialogues with labels 0 and 3 kept, the others unlabelled (-1)."""
    dialogues = [d.clone() for d in dataset]
    for d in dialogues:
        y = d["utterance"].y
        d["utterance"].y = torch.where((y == 0) | (y == 3), y, torch.full_like(y, -1))
    return dialogues


def test_a_binary_task_and_classes_missing_from_training(splits):
    """A two-class fit (scikit-learn's one coefficient row) fills its two of the 7 logits; the rest are never predicted."""
    train, dev = binary(splits[0]), binary(splits[1])
    model = LogisticRegressionFloor(splits[0].meta["feature_dims"], 7,
                                    LogisticRegressionConfig(modalities=MODALITIES, scaling="standard"))
    model.fit_outright(train, dev)
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=float(model.C), max_iter=1000)).fit(
        *utterance_table(train, MODALITIES))
    out = predict(model, dev)
    probs = out["probs"][out["y"] >= 0]
    assert set(probs.argmax(-1)) <= {0, 3}
    np.testing.assert_allclose(probs[:, [0, 3]], reference.predict_proba(utterance_table(dev, MODALITIES)[0]),
                               atol=1e-4)


def test_the_trainer_fits_it_once_and_a_resume_does_not_train_it(tmp_path, splits):
    train, dev, test = splits
    config = LogisticRegressionConfig(modalities=MODALITIES)
    run = Trainer("logreg", train, dev, TrainConfig(epochs=50, quiet=True), model_config=config,
                  out_dir=str(tmp_path)).fit(test)
    assert run["best_epoch"] == 1 and run["epochs_run"] == 1
    before = load_checkpoint(str(tmp_path / "last.pt"))["model_state"]
    again = Trainer("logreg", train, dev, TrainConfig(epochs=50, quiet=True), model_config=config,
                    out_dir=str(tmp_path), resume=str(tmp_path / "last.pt")).fit(test)
    after = load_checkpoint(str(tmp_path / "last.pt"))["model_state"]
    assert again["epochs_run"] == 1 and again["test"] == run["test"]
    assert all(torch.equal(before[k], after[k]) for k in before)
    other_seed = Trainer("logreg", train, dev, TrainConfig(epochs=50, quiet=True, seed=3), model_config=config).fit(test)
    assert other_seed["test"] == run["test"]            # deterministic: the seed plays no part
