"""``--engine ray``: featurize and predict on a local Ray cluster (loopback only) give what the local
engine gives, honour the per-utterance cache, and survive a worker killed mid-run."""
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest

from dialoggraph.extras import MissingExtraError
from dialoggraph.features import (AudioFeaturizer, FeaturizeConfig, MediaError, featurize, read_record,
                                  register_featurizer)
from dialoggraph.features import ray_engine
from conftest import assert_same_arrays, conversation_rows, write_rows

TESTS = Path(__file__).parents[1]


@register_featurizer
class DiesOnce(AudioFeaturizer):
    """openSMILE-free audio features (mean, spread, peak) whose process is killed (SIGKILL) the first
    time it encodes an utterance while the file ``marker`` does not exist."""
    kinds = ("dies-once",)
    sample_rate = 8000
    dim = 3

    def __init__(self, marker: str):
        self.marker = marker

    @classmethod
    def from_spec(cls, kind, model, config):
        return cls(os.environ["DIES_ONCE_MARKER"])

    def __call__(self, samples, sample_rate):
        if not os.path.exists(self.marker):
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return np.asarray([samples.mean(), samples.std(), np.abs(samples).max()], np.float32)

    def record(self):
        return {"marker": self.marker}

    @classmethod
    def from_record(cls, record, root, device="cpu"):
        return cls(record["marker"])


@pytest.fixture(scope="module")
def cluster():
    """A Ray cluster of 2 CPUs on 127.0.0.1, its workers able to import this module."""
    ray = pytest.importorskip("ray", reason='needs the ray extra: pip install "dialoggraph[ray]"')
    pytest.importorskip("ray.data")
    path = os.pathsep.join([str(TESTS / "features"), str(TESTS), *sys.path])
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def test_ray_makes_the_local_engine_s_features_and_record(cluster, transcript, media, tmp_path, monkeypatch):
    pytest.importorskip("opensmile")
    pytest.importorskip("cv2")
    pytest.importorskip("skimage")
    config = FeaturizeConfig(text="none", audio="egemaps", visual="lbp", workers=2)   # text: the predict test
    local, ray = str(tmp_path / "local"), str(tmp_path / "ray")
    made = featurize(transcript, local, str(media), config, progress=False)
    assert featurize(transcript, ray, str(media), config, progress=False, engine="ray") == read_record(ray)
    assert_same_arrays(local, ray)                                         # byte-identical
    assert read_record(ray)["modalities"] == made["modalities"]
    for split in ("train", "dev", "test"):
        assert (Path(local) / f"{split}.csv").read_bytes() == (Path(ray) / f"{split}.csv").read_bytes()
    # the cache is honoured: a second run encodes nothing
    def no_work(*args, **kwargs):
        raise AssertionError("a cached utterance was encoded again")
    monkeypatch.setattr(ray_engine, "media_results", no_work)
    featurize(transcript, str(tmp_path / "again"), str(media), config, progress=False, engine="ray",
              cache=os.path.join(ray, ".cache"))
    for name in ("train.audio.npy", "test.visual.npy"):
        np.testing.assert_array_equal(np.load(tmp_path / "again" / name), np.load(os.path.join(local, name)))


def test_predict_on_ray_is_predict_here(cluster, tmp_path, monkeypatch):
    """The fitted TF-IDF shipped to the actors makes the local text features: the same CSV."""
    import dialoggraph
    monkeypatch.syspath_prepend(str(TESTS / "cli"))
    from test_mistakes import write_transcript
    transcript = write_transcript(tmp_path / "t.csv")
    featurize(transcript, str(tmp_path / "features"), progress=False)
    result = dialoggraph.run("bigru", {"dataset": "folder", "root": str(tmp_path / "features")},
                             model_config={"hidden": 8}, train={"epochs": 1, "batch_size": 4, "quiet": True},
                             out=str(tmp_path / "run"))
    here = dialoggraph.Predictor.from_checkpoint(result.checkpoint()).predict(transcript)
    here.to_csv(str(tmp_path / "here.csv"))
    from dialoggraph.cli import main
    assert main(["predict", "--checkpoint", result.checkpoint(), "--transcripts", transcript, "--engine", "ray",
                 "--workers", "1", "--out", str(tmp_path / "ray.csv")]) == 0
    assert (tmp_path / "ray.csv").read_text() == (tmp_path / "here.csv").read_text()


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, media, tmp_path, monkeypatch):
    rows = conversation_rows(dialogues=8, length=6, test_from=6, video_dialogue=False)        # 48 utterances
    transcript = write_rows(tmp_path / "t.csv", rows)
    marker = tmp_path / "killed"
    monkeypatch.setenv("DIES_ONCE_MARKER", str(marker))
    config = FeaturizeConfig(text="none", audio="dies-once")
    featurize(transcript, str(tmp_path / "ray"), str(media), config, progress=False, engine="ray")
    assert marker.exists()                                    # a worker was killed, and Ray retried its batch
    featurize(transcript, str(tmp_path / "local"), str(media), config, progress=False)      # marker set: no kill
    assert_same_arrays(str(tmp_path / "local"), str(tmp_path / "ray"))
    record = read_record(str(tmp_path / "ray"))["modalities"]["audio"]
    assert record["missing"] == 0 and record["dim"] == 3
    cached = [f for _, _, files in os.walk(tmp_path / "ray" / ".cache" / "audio") for f in files]
    assert len(cached) == len({r[6] for r in rows})           # one cache entry per distinct window: no duplicate


def test_unreadable_media_on_ray_gets_the_local_one_line_error(cluster, media, tmp_path):
    pytest.importorskip("opensmile")
    rows = conversation_rows(video_dialogue=False)
    rows[3][6] = "corrupt.wav"
    bad = write_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(MediaError, match=r"1 utterance\(s\) with unreadable media .*dialogue 'dia0', utterance 3: "
                                         r".*corrupt.wav: cannot decode"):
        featurize(bad, str(tmp_path / "out"), str(media), FeaturizeConfig(text="none", audio="egemaps"),
                  progress=False, engine="ray")


def test_without_the_ray_extra_the_engine_is_refused_in_one_line(transcript, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setitem(sys.modules, "ray.data", None)
    with pytest.raises(MissingExtraError, match=r'--engine ray needs ray: pip install "dialoggraph\[ray\]"'):
        featurize(transcript, str(tmp_path / "out"), engine="ray")
    from dialoggraph.cli import main
    assert main(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "cli"), "--engine", "ray"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["predict", "--checkpoint", "any.pt", "--engine", "ray", "--out", str(tmp_path / "p.csv")]) == 2
    assert "need --transcripts" in capsys.readouterr().err            # the engine is for raw input only
