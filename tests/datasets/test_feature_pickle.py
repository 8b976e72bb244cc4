import json
import os
import pickle

import numpy as np
import pytest
import torch

from dialoggraph.data import DialogueValidationError
from dialoggraph.datasets import IEMOCAP_LABELS, MELD_LABELS, FeaturePickle


def iemocap_tuple(rng, with_dev=False):
    """The 9-tuple of DialogueGCN/MMGCN's IEMOCAP_features.pkl ('M'/'F' speakers)."""
    vids = [f"Ses0{i}" for i in range(6)]
    lengths = dict(zip(vids, [3, 5, 1, 4, 2, 6]))
    ids = {v: [f"{v}_{j}" for j in range(n)] for v, n in lengths.items()}
    speakers = {v: ["M" if j % 2 else "F" for j in range(n)] for v, n in lengths.items()}
    labels = {v: [int(x) for x in rng.integers(0, 6, n)] for v, n in lengths.items()}
    text = {v: rng.standard_normal((n, 8)).astype(np.float32) for v, n in lengths.items()}
    audio = {v: [list(r) for r in rng.standard_normal((n, 4))] for v, n in lengths.items()}
    visual = {v: rng.standard_normal((n, 5)) for v, n in lengths.items()}
    sentence = {v: [f"utterance {j}" for j in range(n)] for v, n in lengths.items()}
    fields = (ids, speakers, labels, text, audio, visual, sentence, vids[:4], vids[4:5] if with_dev else vids[4:])
    return fields + ((vids[5:],) if with_dev else ())


def dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_mmgcn_iemocap_layout(tmp_path):
    fields = iemocap_tuple(np.random.default_rng(0))
    dump(tmp_path / "IEMOCAP_features.pkl", fields)
    train = FeaturePickle(str(tmp_path / "IEMOCAP_features.pkl"), "mmgcn", "train", label_names=IEMOCAP_LABELS)
    dev = FeaturePickle(str(tmp_path / "IEMOCAP_features.pkl"), "mmgcn", "dev", label_names=IEMOCAP_LABELS)
    test = FeaturePickle(str(tmp_path / "IEMOCAP_features.pkl"), "mmgcn", "test", label_names=IEMOCAP_LABELS)
    assert len(train) == 3 and len(dev) == 1 and len(test) == 2  # no devVid: 10% of train held out
    assert train.modalities == ("text", "audio", "visual")
    assert train.label_names == IEMOCAP_LABELS
    every = {d.dialogue_id: d for ds in (train, dev, test) for d in ds}
    store = every["Ses01"]["utterance"]
    assert store.speaker.tolist() == [0, 1, 0, 1, 0]  # F M F M F
    assert every["Ses01"].speaker_names == ["F", "M"]
    assert store.y.tolist() == fields[2]["Ses01"]
    assert torch.allclose(store.x_visual, torch.tensor(fields[5]["Ses01"], dtype=torch.float32))
    assert store.x_audio.shape == (5, 4)


def test_mmgcn_meld_layout_with_roberta_and_dev(tmp_path):
    rng = np.random.default_rng(1)
    ids, _, labels, text, audio, visual, sentence, train, test, dev = iemocap_tuple(rng, with_dev=True)
    speakers = {v: [list(np.eye(9)[j % 3]) for j in range(len(ids[v]))] for v in ids}
    roberta = [{v: rng.standard_normal((len(ids[v]), 6)) for v in ids} for _ in range(4)]
    obj = (ids, speakers, labels, text, *roberta, audio, visual, sentence, train, test, dev)
    dump(tmp_path / "meld.pkl", obj)
    ds = FeaturePickle(str(tmp_path / "meld.pkl"), "mmgcn", "dev", label_names=MELD_LABELS,
                       modalities=["roberta2", "audio"])
    assert [d.dialogue_id for d in ds] == dev
    assert ds.modalities == ("roberta2", "audio")
    store = ds[0]["utterance"]
    assert torch.allclose(store.x_roberta2, torch.tensor(roberta[1][dev[0]], dtype=torch.float32))
    assert ds[0].speaker_names == ["0", "1", "2"][:store.num_nodes]
    assert len(FeaturePickle(str(tmp_path / "meld.pkl"), "mmgcn", "train")) == 4


def test_multiemo_layout(tmp_path):
    fields = iemocap_tuple(np.random.default_rng(2))
    dump(tmp_path / "Speakers.pkl", fields)
    dump(tmp_path / "TextFeatures.pkl", fields[3])
    dump(tmp_path / "AudioFeatures.pkl", {v: np.asarray(a) for v, a in fields[4].items()})
    dump(tmp_path / "VisualFeatures.pkl", fields[5])
    ds = FeaturePickle(str(tmp_path), "multiemo", "test")
    assert [d.dialogue_id for d in ds] == ["Ses04", "Ses05"]
    assert ds.modalities == ("text", "audio", "visual")
    assert ds.label_names == [str(i) for i in range(6)][:ds.num_classes]
    assert torch.allclose(ds[1]["utterance"].x_text, torch.from_numpy(fields[3]["Ses05"]))


def test_dagerc_layout(tmp_path):
    def dialogue(n, offset):
        return [{"text": f"u{j}", "speaker": ["Ann", "Bob"][j % 2], "label": ["joy", "neutral", "anger"][(j + offset) % 3],
                 "cls": [float(j), float(offset)]} for j in range(n)]
    for split, count in (("train", 10), ("test", 2)):
        with open(tmp_path / f"{split}_data_roberta.json.feature", "w") as f:
            json.dump([dialogue(3 + i % 3, i) for i in range(count)], f)
    train = FeaturePickle(str(tmp_path), "dagerc", "train")
    dev = FeaturePickle(str(tmp_path), "dagerc", "dev")
    test = FeaturePickle(str(tmp_path), "dagerc", "test")
    assert (len(train), len(dev), len(test)) == (9, 1, 2)
    assert train.label_names == ["anger", "joy", "neutral"]
    first = test[0]["utterance"]
    assert first.x_text.tolist() == [[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]
    assert first.y.tolist() == [1, 2, 0]
    assert first.speaker.tolist() == [0, 1, 0]


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_malicious_pickle_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fields = list(iemocap_tuple(np.random.default_rng(3)))
    fields[3] = {v: Exploit() for v in fields[3]}
    dump(tmp_path / "evil.pkl", tuple(fields))
    with pytest.raises(DialogueValidationError, match=r"evil.pkl: refusing to unpickle (posix|os)\.system"):
        FeaturePickle(str(tmp_path / "evil.pkl"), "mmgcn", "train")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("obj,message", [
    ({"not": "a tuple"}, "expected a tuple"),
    (({}, {}, {}), "found 3 dicts and 0 split lists"),
])
def test_malformed_pickles(tmp_path, obj, message):
    dump(tmp_path / "bad.pkl", obj)
    with pytest.raises(DialogueValidationError, match=message):
        FeaturePickle(str(tmp_path / "bad.pkl"), "mmgcn", "train")


def test_truncated_pickle_and_missing_dialogue(tmp_path):
    fields = iemocap_tuple(np.random.default_rng(4))
    with open(tmp_path / "cut.pkl", "wb") as f:
        f.write(pickle.dumps(fields)[:100])
    with pytest.raises(DialogueValidationError, match="cut.pkl: not a readable pickle"):
        FeaturePickle(str(tmp_path / "cut.pkl"), "mmgcn", "train")
    del fields[5]["Ses04"]
    dump(tmp_path / "hole.pkl", fields)
    with pytest.raises(DialogueValidationError, match="dialogue 'Ses04': missing from visual"):
        FeaturePickle(str(tmp_path / "hole.pkl"), "mmgcn", "test")


def test_mmgcn_layout_with_amb_dsgdns_six_feature_dicts(tmp_path):
    """AMB-DSGDN's released files: videoText (RoBERTa layer 1), roberta2..4, audio, visual."""
    ids, speakers, labels, text, audio, visual, sentence, train_ids, test_ids = iemocap_tuple(np.random.default_rng(1))
    roberta = [{v: x + k for v, x in text.items()} for k in (2, 3, 4)]
    dump(tmp_path / "iemocap_multimodal_features.pkl",
         (ids, speakers, labels, text, *roberta, audio, visual, sentence, train_ids, test_ids))
    data = FeaturePickle(str(tmp_path / "iemocap_multimodal_features.pkl"), "mmgcn", "train",
                         label_names=IEMOCAP_LABELS)
    assert data.modalities == ("text", "roberta2", "roberta3", "roberta4", "audio", "visual")
    first = data[0]
    assert torch.allclose(first["utterance"].x_roberta3, first["utterance"].x_text + 3)
