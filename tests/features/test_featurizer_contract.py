"""The featurizer contract: a new featurizer is one registered class, and featurize, a fitted folder
(prediction) and worker processes all use it through the registry."""
import os

import numpy as np
import pytest

from dialoggraph.features import (FEATURIZERS, AudioFeaturizer, FeaturizeConfig, MediaFeaturizer, TextFeaturizer,
                                  TfidfSVDFeaturizer, featurize, load_featurizer, make_featurizer, parse_spec,
                                  read_record, register_featurizer)
from dialoggraph.features.base import Featurizer


@pytest.fixture
def registered():
    """Registers the test's featurizers for one test only."""
    added = []

    def register(cls):
        added.append(cls)
        return register_featurizer(cls)
    yield register
    for cls in added:
        for kind in cls.kinds:
            if FEATURIZERS[cls.modality].get(kind) is cls:
                del FEATURIZERS[cls.modality][kind]


def vocabulary_counts(register):
    @register
    class VocabularyCounts(TextFeaturizer):
        """How often each of the train split's ``size`` most frequent words occurs (fitted state: the words)."""
        kinds = ("counts",)
        takes_model = True                                       # counts:SIZE

        def __init__(self, size=3, words=None):
            self.size, self.words = size, words
            self.dim = size

        @classmethod
        def from_spec(cls, kind, model, config):
            return cls(int(model))

        def fit(self, train, dev=(), label_names=(), state_dir=None, progress=False):
            words = [w for u in train for w in u.text.lower().split()]
            self.words = sorted(set(words), key=lambda w: (-words.count(w), w))[:self.size]
            return self

        def transform(self, utterances, media_root=".", progress=False):
            return np.asarray([[u.text.lower().split().count(w) for w in self.words] for u in utterances],
                              np.float32)

        def record(self):
            return {"size": self.size}

        def save(self, path):
            with open(path + ".txt", "w") as f:
                f.write("\n".join(self.words))
            return os.path.basename(path) + ".txt"

        @classmethod
        def from_record(cls, record, root, device="cpu"):
            with open(os.path.join(root, record["state"])) as f:
                return cls(record["size"], f.read().split("\n"))
    return VocabularyCounts


def test_every_built_in_featurizer_is_registered_under_its_spec():
    built_in = {m: sorted(k for k, c in kinds.items() if c.__module__.startswith("dialoggraph."))
                for m, kinds in FEATURIZERS.items()}          # (other test modules register their own)
    assert built_in == {
        "text": ["finetune", "sbert", "tfidf"], "audio": ["compare", "egemaps", "hf"],
        "visual": ["hf", "hog", "lbp", "timm"]}
    for modality, kinds in FEATURIZERS.items():
        for kind, cls in kinds.items():
            assert issubclass(cls, Featurizer) and cls.modality == modality and kind in cls.kinds
            assert issubclass(cls, MediaFeaturizer) == (modality != "text")
    assert parse_spec("visual", "timm:resnet18@w.pth") == ("timm", "resnet18@w.pth")
    assert parse_spec("text", "none") == ("none", None)
    with pytest.raises(ValueError, match="--audio 'hf': expected one of egemaps, compare, hf:MODEL"):
        parse_spec("audio", "hf")
    with pytest.raises(ValueError, match="expected one of"):
        parse_spec("text", "tfidf:x")                              # tfidf takes no model


def test_a_kind_cannot_be_registered_twice(registered):
    class Other(TextFeaturizer):
        kinds = ("tfidf",)
    with pytest.raises(ValueError, match="'tfidf' is already TfidfSVDFeaturizer"):
        registered(Other)
    assert FEATURIZERS["text"]["tfidf"] is TfidfSVDFeaturizer


def test_an_unknown_featurizer_says_why_it_could_not_be_loaded():
    record = {"kind": "loudness2", "class": "no_such_module:Loudness2"}
    with pytest.raises(ValueError, match=r"'loudness2' \(no_such_module:Loudness2\) is not registered here \(importing "
                                         r"it failed: No module named 'no_such_module'\)"):
        load_featurizer("audio", record, ".")


def test_the_built_in_tfidf_round_trips_through_its_record(transcript, tmp_path):
    out = str(tmp_path / "out")
    record = featurize(transcript, out, config=FeaturizeConfig(tfidf_dim=8), progress=False)
    entry = record["modalities"]["text"]
    again = load_featurizer("text", entry, out)
    made = np.concatenate([np.load(os.path.join(out, f"{s}.text.npy")) for s in ("train", "dev", "test")])
    assert again.dim == entry["dim"] == made.shape[1]
    from dialoggraph.features import read_transcript
    from dialoggraph.features.pipeline import _assign_dev
    utterances = _assign_dev(read_transcript(transcript))
    order = [u for s in ("train", "dev", "test") for u in utterances if u.split == s]
    np.testing.assert_allclose(again.transform(order), made, rtol=1e-6)
    fresh = make_featurizer("text", "tfidf", FeaturizeConfig(tfidf_dim=8))
    np.testing.assert_allclose(fresh.fit([u for u in utterances if u.split == "train"]).transform(order), made,
                               rtol=1e-6)


def test_a_new_text_featurizer_is_one_registered_class(registered, transcript, tmp_path):
    counts = vocabulary_counts(registered)
    out, again = str(tmp_path / "out"), str(tmp_path / "again")
    record = featurize(transcript, out, config=FeaturizeConfig(text="counts:4"), progress=False)
    entry = record["modalities"]["text"]
    assert (entry["spec"], entry["kind"], entry["dim"], entry["size"]) == ("counts:4", "counts", 4, 4)
    assert entry["state"] == "featurizers/text.txt" and os.path.exists(os.path.join(out, entry["state"]))
    train = np.load(os.path.join(out, "train.text.npy"))
    assert train.shape[1] == 4 and train.sum() > 0
    # prediction: the fitted featurizer is rebuilt from the folder's record, nothing is fitted again
    featurize(transcript, again, fitted=out, progress=False)
    for split in ("train", "dev", "test"):
        np.testing.assert_array_equal(np.load(os.path.join(again, f"{split}.text.npy")),
                                      np.load(os.path.join(out, f"{split}.text.npy")))
    assert isinstance(load_featurizer("text", read_record(again)["modalities"]["text"], again), counts)


def test_a_new_featurizer_on_the_command_line_and_in_its_error_message(registered, transcript, tmp_path, capsys):
    from dialoggraph.cli import main
    vocabulary_counts(registered)
    assert main(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "bad"), "--text", "count"]) == 2
    error = capsys.readouterr().err
    assert "expected one of" in error and "counts:MODEL" in error and len(error.strip().splitlines()) == 1
    assert main(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "cli"), "--text", "counts:3",
                 "--quiet"]) == 0
    assert read_record(str(tmp_path / "cli"))["modalities"]["text"]["dim"] == 3


def test_a_new_media_featurizer_runs_in_worker_processes_rebuilt_from_its_record(registered, transcript, media,
                                                                                  tmp_path):
    @registered
    class Loudness(AudioFeaturizer):
        """Root mean square and peak of the window's samples."""
        kinds = ("loudness",)
        sample_rate = 8000
        dim = 2

        @classmethod
        def from_spec(cls, kind, model, config):
            return cls()

        def __call__(self, samples, sample_rate):
            return np.asarray([np.sqrt(np.mean(samples ** 2)), np.abs(samples).max()], np.float32)

        def record(self):
            return {"sample_rate": self.sample_rate}

        @classmethod
        def from_record(cls, record, root, device="cpu"):
            return cls()

    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    record = featurize(transcript, one, str(media), FeaturizeConfig(text="none", audio="loudness"), progress=False)
    featurize(transcript, two, str(media), FeaturizeConfig(text="none", audio="loudness", workers=2),
              progress=False)
    for split in ("train", "dev", "test"):
        np.testing.assert_array_equal(np.load(os.path.join(one, f"{split}.audio.npy")),
                                      np.load(os.path.join(two, f"{split}.audio.npy")))
    assert record["modalities"]["audio"]["dim"] == 2 and record["modalities"]["audio"]["missing"] >= 1
    # transform() on its own: NaN where an utterance has no usable media
    from dialoggraph.features import read_transcript
    rows = read_transcript(transcript)
    raw = Loudness().transform(rows, str(media))
    assert raw.shape == (len(rows), 2)
    assert np.isnan(raw[[not u.media for u in rows]]).all() and np.isfinite(raw[0]).all()
