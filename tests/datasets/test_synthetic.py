import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.graphs import speaker_window_edges
from dialoggraph.data import INTRA
from dialoggraph.transforms import SpeakerWindowGraph


def flat(ds, modality):
    return ds._data["utterance"][f"x_{modality}"], ds._data["utterance"].y


def test_deterministic_and_splits_differ():
    a = SyntheticDialogues(20, "train", seed=5)
    b = SyntheticDialogues(20, "train", seed=5)
    c = SyntheticDialogues(20, "test", seed=5)
    assert torch.equal(flat(a, "text")[0], flat(b, "text")[0])
    assert not torch.equal(flat(a, "text")[0][:10], flat(c, "text")[0][:10])
    assert a.modalities == ("text", "audio", "visual") and a.num_classes == 7
    lengths = [d["utterance"].num_nodes for d in a]
    assert min(lengths) >= 4 and max(lengths) <= 24


def test_modality_selection_keeps_the_task():
    full = SyntheticDialogues(5, "dev", seed=2)
    text_only = SyntheticDialogues(5, "dev", seed=2, modalities=["text"], pre_transform=SpeakerWindowGraph())
    assert text_only.modalities == ("text",)
    assert torch.equal(flat(full, "text")[0], flat(text_only, "text")[0])
    assert INTRA in text_only[0].edge_types


def test_planted_signal_text_beats_visual_and_context_helps():
    train, test = SyntheticDialogues(300, "train"), SyntheticDialogues(150, "test")
    y_train, y_test = flat(train, "text")[1].numpy(), flat(test, "text")[1].numpy()
    scores, probs = {}, {}
    for m in ("text", "visual"):
        clf = LogisticRegression(max_iter=300).fit(flat(train, m)[0].numpy(), y_train)
        probs[m] = torch.tensor(clf.predict_proba(flat(test, m)[0].numpy()))
        scores[m] = f1_score(y_test, probs[m].argmax(1).numpy(), average="weighted")
    assert scores["text"] > scores["visual"] + 0.1
    # The simplest context model -- summing the per-utterance class probabilities over
    # the speaker window -- already beats the context-free one by a wide margin.
    lengths = torch.tensor([d["utterance"].num_nodes for d in test])
    batch = torch.repeat_interleave(torch.arange(len(test)), lengths)
    edge_index, _ = speaker_window_edges(test._data["utterance"].speaker, batch, 2, 2)
    smoothed = torch.zeros_like(probs["text"]).index_add_(0, edge_index[1], probs["text"][edge_index[0]])
    context = f1_score(y_test, smoothed.argmax(1).numpy(), average="weighted")
    assert context > scores["text"] + 0.1
    ambiguous = test._data["utterance"].ambiguous.numpy()
    assert 0.3 < ambiguous.mean() < 0.5
