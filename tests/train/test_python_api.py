"""The Python entry points: a run made with ``dialoggraph.run`` is one the CLI reads, checkpoints
describe themselves (a class defined in a notebook loads when passed), and ``Predictor`` predicts
raw transcripts (a path, a DataFrame or rows) as ``dialoggraph predict`` does."""
import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import dialoggraph
from dialoggraph.cli import main
from dialoggraph.models import DialogueModel, ModelConfig
from dialoggraph.train import CheckpointError, TrainConfig, Trainer

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from test_mistakes import write_transcript  # noqa: E402

FAST = {"epochs": 1, "batch_size": 4, "quiet": True}


def test_a_python_run_is_a_cli_run(tmp_path, capsys):
    data = {"dataset": "synthetic", "num_dialogues": 24}
    result = dialoggraph.run("mlp", data, model_config={"hidden": 16}, train=FAST, seeds=[0, 1], out=str(tmp_path / "r"))
    for name in ("config.yaml", "header.json", "summary.json", "seed0/best.pt", "seed1/metrics.json"):
        assert (tmp_path / "r" / name).exists(), name
    run_file = yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())
    assert run_file["model"] == "mlp" and run_file["seeds"] == [0, 1] and run_file["model_config"]["hidden"] == 16
    assert result.checkpoint(1) == str(tmp_path / "r" / "seed1" / "best.pt")
    assert result.summary["test"]["weighted_f1"]["values"] == [r["test"]["weighted_f1"] for r in result.results]
    assert isinstance(result.load(0), DialogueModel)
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", result.checkpoint(0), "--out", str(tmp_path / "m.json")]) == 0
    assert main(["train", "--config", str(tmp_path / "r" / "config.yaml"), "--out", str(tmp_path / "again")]) == 0
    again = yaml.safe_load((tmp_path / "again" / "config.yaml").read_text())
    assert again == run_file                                               # the same run, repeated


NOTEBOOK = '''
import torch, dialoggraph
from dialoggraph.models import DialogueModel, ModelOutput

class NotebookModel(DialogueModel):
    def __init__(self, in_dims, num_classes, config=None):
        super().__init__(in_dims, num_classes, config)
        self.out = torch.nn.Linear(sum(in_dims[m] for m in self.modalities), num_classes)

    def forward(self, batch):
        return ModelOutput(self.out(torch.cat([self.input_features(batch, m) for m in self.modalities], -1)))
'''



# The notebook's cell, run here as a notebook runs it: its classes' module is ``__main__``.
_cell = {"__name__": "__main__"}
exec(NOTEBOOK, _cell)
NotebookModel = _cell["NotebookModel"]


def test_checkpoints_describe_themselves_and_a_notebook_class_loads_when_passed(tmp_path):
    from dialoggraph.datasets import SyntheticDialogues
    train, dev = SyntheticDialogues(12, "train"), SyntheticDialogues(4, "dev")
    Trainer(NotebookModel, train, dev, TrainConfig(**FAST), model_config=ModelConfig(modalities=("text",)),
            out_dir=str(tmp_path / "nb")).fit()
    state = torch.load(tmp_path / "nb" / "best.pt", weights_only=True)
    assert state["model"] == "__main__:NotebookModel" and state["in_dims"] == train.meta["feature_dims"]
    assert state["label_names"] == list(train.label_names) and state["model_config"]["modalities"] == ["text"]
    with pytest.raises(CheckpointError, match=r"defined in a notebook or script; pass the class: "
                                              r"load\(path, model_class=NotebookModel\)"):
        dialoggraph.load(str(tmp_path / "nb" / "best.pt"))
    model = dialoggraph.load(str(tmp_path / "nb" / "best.pt"), model_class=NotebookModel)
    assert isinstance(model, NotebookModel) and not model.training
    assert torch.equal(model.out.weight, state["model_state"]["out.weight"])
    from dialoggraph.models import UtteranceMLP
    with pytest.raises(CheckpointError, match="not 'UtteranceMLP'"):
        dialoggraph.load(str(tmp_path / "nb" / "best.pt"), model_class=UtteranceMLP)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predictor")
    transcript = write_transcript(tmp / "t.csv")
    assert main(["featurize", "--transcripts", transcript, "--out", str(tmp / "features"), "--quiet"]) == 0
    result = dialoggraph.run("bigru", {"dataset": "folder", "root": str(tmp / "features")},
                             model_config={"hidden": 8}, train=FAST, out=str(tmp / "run"))
    return tmp, result


def test_predictor_predicts_a_transcript_path_rows_and_a_dataframe_as_the_cli(trained, tmp_path):
    tmp, result = trained
    state = torch.load(result.checkpoint(), weights_only=True)
    assert state["run"]["featurizers"]["label_names"] == ["joy", "sad"]        # the checkpoint names its featurizers
    predictor = dialoggraph.Predictor.from_checkpoint(result.checkpoint())
    new = write_transcript(tmp_path / "new.csv")
    out = predictor.predict(new)
    with open(new, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(out) == len(rows) and out.probabilities.shape == (len(rows), 2)
    assert np.allclose(out.probabilities.sum(1), 1.0, atol=1e-5)
    assert [r["text"] for r in out.rows] == [r["text"] for r in rows]
    assert out.labels == [["joy", "sad"][int(p.argmax())] for p in out.probabilities]
    assert main(["predict", "--checkpoint", result.checkpoint(), "--transcripts", new, "--out", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as f:
        cli = list(csv.DictReader(f))
    assert [r["predicted"] for r in cli] == out.labels
    assert np.allclose([[float(r["p_joy"]), float(r["p_sad"])] for r in cli], out.probabilities, atol=1e-6)
    from_rows = predictor.predict(rows, media_root=str(tmp_path))
    assert np.allclose(from_rows.probabilities, out.probabilities, atol=1e-6)
    pandas = pytest.importorskip("pandas")
    frame = predictor.predict(pandas.read_csv(new, dtype=str, keep_default_na=False), media_root=str(tmp_path))
    assert np.allclose(frame.probabilities, out.probabilities, atol=1e-6)
    assert list(frame.to_pandas().columns[-2:]) == ["p_joy", "p_sad"]


def test_a_model_without_featurizers_refuses_raw_input_in_one_line(tmp_path):
    result = dialoggraph.run("mlp", {"dataset": "synthetic", "num_dialogues": 16}, model_config={"hidden": 8},
                             train=FAST, out=str(tmp_path / "r"))
    predictor = dialoggraph.Predictor.from_checkpoint(result.checkpoint())
    with pytest.raises(CheckpointError, match="no fitted featurizers"):
        predictor.predict(write_transcript(tmp_path / "t.csv"))
    from dialoggraph.datasets import SyntheticDialogues
    out = predictor.predict_dataset(SyntheticDialogues(16, "test"))
    assert len(out) == sum(d["utterance"].num_nodes for d in SyntheticDialogues(16, "test"))


def test_a_notebook_model_trains_saves_and_predicts_raw_input_in_a_fresh_process(trained, tmp_path):
    import subprocess
    tmp, _ = trained
    train = NOTEBOOK + f'''
dialoggraph.run(NotebookModel, {{"dataset": "folder", "root": {str(tmp / "features")!r}}},
                train={{"epochs": 1, "quiet": True}}, out={str(tmp_path / "nb")!r})
'''
    new = write_transcript(tmp_path / "new.csv")
    predict = NOTEBOOK + f'''
try:
    dialoggraph.load({str(tmp_path / "nb" / "best.pt")!r})
except dialoggraph.train.CheckpointError as exc:
    print("refused:", exc)
out = dialoggraph.Predictor.from_checkpoint({str(tmp_path / "nb" / "best.pt")!r}, model_class=NotebookModel).predict({new!r})
print(len(out), out.probabilities.shape)
'''
    for script in (train, predict):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "refused:" in done.stdout and "model_class=NotebookModel" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "15 (15, 2)"
