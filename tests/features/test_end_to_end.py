"""One command from a recording to emotions: transcript + media -> featurize -> train -> predict on a
new raw dialogue, all through the command line."""
import csv

import numpy as np
import pytest

from dialoggraph.cli import main
from conftest import conversation_rows, speak, write_rows

pytest.importorskip("opensmile")
pytest.importorskip("cv2")
pytest.importorskip("skimage")


def test_featurize_train_and_predict_on_a_new_raw_dialogue(media, tmp_path, capsys):
    transcript = write_rows(tmp_path / "talks.csv", conversation_rows())
    features, run = str(tmp_path / "features"), str(tmp_path / "run")
    assert main(["featurize", "--transcripts", transcript, "--media-root", str(media), "--out", features,
                 "--audio", "egemaps", "--visual", "hog", "--tfidf-dim", "8", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "26 utterances in 7 dialogues (train 16, dev 4, test 6)" in said
    assert "audio: egemaps, 88-d; 1 without audio" in said and "visual: hog, 1764-d; 25 without a face" in said
    assert main(["train", "--model", "amb_dsgdn", "--dataset", "folder", "--root", features, "--epochs", "2",
                 "--hidden", "16", "--out", run, "--quiet"]) == 0
    capsys.readouterr()

    # a new conversation nobody has featurized: its own recordings, no labels, no split
    new = tmp_path / "new"
    new.mkdir()
    speak("I cannot believe you did that", str(new / "a.wav"))
    (new / "face.mp4").write_bytes((media / "face.mp4").read_bytes())
    with open(new / "talk.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dialogue_id", "utterance_id", "speaker", "text", "media", "start", "end"])
        writer.writerow(["call", 1, "Ann", "I cannot believe you did that", "a.wav", "", ""])
        writer.writerow(["call", 2, "Bob", "so happy for you", "face.mp4", "0.2", "1.8"])
    preds = str(tmp_path / "preds.csv")
    assert main(["predict", "--checkpoint", f"{run}/best.pt", "--transcripts", str(new / "talk.csv"),
                 "--out", preds]) == 0
    with open(preds) as f:
        rows = list(csv.DictReader(f))
    labels = ["anger", "joy", "neutral", "sadness", "surprise"]
    assert [(r["dialogue"], r["utterance"], r["speaker"], r["text"]) for r in rows] == [
        ("call", "1", "Ann", "I cannot believe you did that"), ("call", "2", "Bob", "so happy for you")]
    for r in rows:
        probs = np.asarray([float(r[f"p_{name}"]) for name in labels])
        assert r["label"] == "" and r["predicted"] == labels[int(probs.argmax())]
        assert probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_predict_on_raw_input_uses_the_features_the_model_was_trained_on(media, tmp_path, capsys, monkeypatch):
    """Predicting the training transcript itself gives the probabilities predict gives on the folder,
    without decoding again the recordings featurize cached."""
    transcript = write_rows(tmp_path / "talks.csv", conversation_rows(video_dialogue=False))
    features, run = str(tmp_path / "features"), str(tmp_path / "run")
    main(["featurize", "--transcripts", transcript, "--media-root", str(media), "--out", features, "--audio",
          "egemaps", "--tfidf-dim", "8", "--quiet"])
    main(["train", "--model", "bigru", "--dataset", "folder", "--root", features, "--epochs", "2", "--out", run,
          "--quiet"])
    test_only = write_rows(tmp_path / "test.csv", [r for r in conversation_rows(video_dialogue=False)
                                                    if r[5] == "test"])
    raw, folder = str(tmp_path / "raw.csv"), str(tmp_path / "folder.csv")
    import dialoggraph.features.pipeline as pipeline
    decoded = []
    extract = pipeline._extract
    monkeypatch.setattr(pipeline, "_extract", lambda job: decoded.append(job) or extract(job))
    assert main(["predict", "--checkpoint", f"{run}/best.pt", "--transcripts", test_only, "--media-root",
                 str(media), "--out", raw]) == 0
    assert decoded == []                                   # every window came from the folder's cache
    assert main(["predict", "--checkpoint", f"{run}/best.pt", "--split", "test", "--out", folder]) == 0

    def probabilities(path):
        with open(path) as f:
            return np.asarray([[float(v) for k, v in r.items() if k.startswith("p_")] for r in csv.DictReader(f)])
    np.testing.assert_allclose(probabilities(raw), probabilities(folder), atol=1e-6)


def test_command_line_mistakes_are_one_line_and_exit_2(media, tmp_path, capsys):
    transcript = write_rows(tmp_path / "talks.csv", conversation_rows())
    assert main(["featurize", "--transcripts", transcript, "--out", str(tmp_path / "o"), "--audio",
                 "opensmile"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--audio 'opensmile': expected one of egemaps, compare, hf:MODEL" in err and "\n" not in err
    assert main(["featurize", "--transcripts", transcript, "--media-root", str(tmp_path), "--out",
                 str(tmp_path / "o"), "--audio", "egemaps"]) == 2
    err = capsys.readouterr().err.strip()
    assert "media file(s) not found" in err and "dialogue 'dia0', utterance 0" in err and "\n" not in err
    assert main(["featurize", "--transcripts", transcript, "--media-root", str(media), "--out",
                 str(tmp_path / "o2"), "--text", "none", "--audio", f"hf:{tmp_path / 'no-model'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("dialoggraph: error: cannot load the model") and "\n" not in err
    assert main(["train", "--model", "mlp", "--num-dialogues", "8", "--epochs", "1", "--out",
                 str(tmp_path / "synthetic"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["predict", "--checkpoint", str(tmp_path / "synthetic" / "best.pt"), "--transcripts", transcript,
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "no featurizers.json beside it or in its data folder" in capsys.readouterr().err
