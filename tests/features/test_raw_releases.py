"""IEMOCAP and MELD from their raw releases: tiny trees in the official layouts, real speech and video."""
import csv
import json
import os
import shutil
import wave

import numpy as np
import pytest

from dialoggraph.datasets import IEMOCAP, MELD, iemocap_transcript, meld_transcript
from conftest import LINES

pytest.importorskip("opensmile")

# (turn id suffix, emotion code, line index) per dialogue; "xxx" = no agreement, "fea" = outside the 6 classes
DIALOGUES = {
    (1, "Ses01F_impro01"): [("F000", "neu", 5), ("M000", "fru", 1), ("F001", "hap", 0), ("M001", "xxx", 4)],
    (1, "Ses01M_script02_1"): [("M000", "exc", 6), ("F000", "sad", 3), ("M001", "ang", 7), ("F001", "fea", 2)],
    (5, "Ses05F_impro03"): [("F000", "ang", 4), ("M000", "sad", 1), ("F001", "exc", 2)],
}


def _read(path):
    with wave.open(str(path)) as f:
        return f.getframerate(), np.frombuffer(f.readframes(f.getnframes()), np.int16)


@pytest.fixture(scope="module")
def iemocap_root(media, tmp_path_factory):
    root = tmp_path_factory.mktemp("IEMOCAP_full_release")
    for (session, dialogue), turns in DIALOGUES.items():
        dialog = root / f"Session{session}" / "dialog"
        for sub in ("wav", "transcriptions", "EmoEvaluation"):
            (dialog / sub).mkdir(parents=True, exist_ok=True)
        audio, transcription, evaluation, t = [], [], ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""], 0.3
        for suffix, code, k in turns:
            rate, samples = _read(media / f"line{k}.wav")
            audio.append(np.zeros(int(0.3 * rate), np.int16))
            start, end = t, t + len(samples) / rate
            audio.append(samples)
            t = end + 0.3
            name = f"{dialogue}_{suffix}"
            transcription.append(f"{name} [{start:08.4f}-{end:08.4f}]: {LINES[k]}")
            evaluation += [f"[{start:.4f} - {end:.4f}]\t{name}\t{code}\t[2.5000, 3.0000, 3.0000]",
                           "C-E1:\tNeutral;\t()", ""]
        transcription.insert(2, f"{dialogue}_MXX0 [001.0000-001.5000]: overlapping laughter")   # no evaluation
        transcription.append("M: [BREATHING]")
        with wave.open(str(dialog / "wav" / f"{dialogue}.wav"), "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(rate)
            f.writeframes(np.concatenate(audio).tobytes())
        # the transcription lines are not in time order in the release either
        (dialog / "transcriptions" / f"{dialogue}.txt").write_text("\n".join(reversed(transcription)) + "\n")
        (dialog / "EmoEvaluation" / f"{dialogue}.txt").write_text("\n".join(evaluation) + "\n")
        (dialog / "transcriptions" / f"._{dialogue}.txt").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    return root


def test_iemocap_release_reads_as_ordered_transcript_rows(iemocap_root):
    rows = iemocap_transcript(str(iemocap_root))
    first = [r for r in rows if r.dialogue == "Ses01F_impro01"]
    assert [(r.index, r.speaker, r.emotion) for r in first] == [
        (0, "F", "neutral"), (1, "M", ""), (2, "M", "frustrated"), (3, "F", "happy"), (4, "M", "")]
    assert first[1].text == "overlapping laughter" and first[0].text == LINES[5]
    assert first[0].media == os.path.join("Session1", "dialog", "wav", "Ses01F_impro01.wav")
    assert 0 < first[0].start < first[0].end < first[2].start
    assert {r.split for r in rows if r.dialogue.startswith("Ses05")} == {"test"}
    assert {r.split for r in rows if not r.dialogue.startswith("Ses05")} == {"train"}
    four = iemocap_transcript(str(iemocap_root), labels="4")
    assert [r.emotion for r in four if r.dialogue == "Ses01M_script02_1"] == ["happy", "", "sad", "angry", ""]
    with pytest.raises(ValueError, match="labels must be '6' or '4'"):
        iemocap_transcript(str(iemocap_root), labels="7")


def test_iemocap_dataset_featurizes_the_release_once(iemocap_root, tmp_path):
    features = str(tmp_path / "iemocap")
    train = IEMOCAP(str(iemocap_root), "train", audio="egemaps", options={"tfidf_dim": 4}, features_dir=features,
                    progress=False)
    assert train.label_names == ["happy", "sad", "neutral", "angry", "excited", "frustrated"]
    assert sorted(train.modalities) == ["audio", "text"] and train[0]["utterance"].x_audio.shape[1] == 88
    test = IEMOCAP(str(iemocap_root), "test", audio="egemaps", options={"tfidf_dim": 4}, features_dir=features)
    assert len(test) == 1 and test[0]["utterance"].y.tolist() == [3, -1, 1, 4]       # MXX0: unlabeled context
    dev = IEMOCAP(str(iemocap_root), "dev", audio="egemaps", options={"tfidf_dim": 4}, features_dir=features)
    assert len(train) + len(dev) == 2
    with open(os.path.join(features, "train.csv")) as f:
        assert {r["audio_present"] for r in csv.DictReader(f)} == {"1"}     # every turn's window has speech


def _meld_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
                         "Season", "Episode", "StartTime", "EndTime"])
        for i, (d, u, text, emotion) in enumerate(rows):
            writer.writerow([i + 1, text, "Ross" if u % 2 else "Rachel", emotion, "neutral", d, u, 1, 1,
                             "00:00:01,000", "00:00:02,000"])


CLIPS = {"train": [(0, 0, "hi there", "joy"), (0, 1, "oh no", "sadness"), (1, 0, "what", "surprise")],
         "dev": [(0, 0, "fine", "neutral")], "test": [(0, 1, "really", "anger"), (0, 0, "sure", "neutral")]}


def test_meld_reads_audio_and_faces_from_meld_raw_clips(media, tmp_path):
    pytest.importorskip("cv2")
    root, raw = tmp_path / "meld", tmp_path / "MELD.Raw"
    root.mkdir()
    for split, rows in CLIPS.items():
        _meld_csv(root / f"{split}_sent_emo.csv", rows)
        folder = raw / {"train": "train_splits", "dev": "dev_splits_complete",
                        "test": "output_repeated_splits_test"}[split]
        folder.mkdir(parents=True)
        for d, u, _, _ in rows:
            if (split, d, u) != ("train", 1, 0):                         # MELD.Raw misses a few clips
                shutil.copy(media / ("face.mp4" if u == 0 else "noface.mp4"), folder / f"dia{d}_utt{u}.mp4")
    with pytest.warns(UserWarning, match=r"1 MELD clip\(s\) missing \(e.g. train_splits/dia1_utt0.mp4\)"):
        rows = meld_transcript(str(root), str(raw))
    assert [(r.dialogue, r.index, r.media) for r in rows if r.split == "test"] == [
        ("test_dia0", 0, "output_repeated_splits_test/dia0_utt0.mp4"),
        ("test_dia0", 1, "output_repeated_splits_test/dia0_utt1.mp4")]
    with pytest.warns(UserWarning, match="MELD clip"):
        train = MELD(str(root), "train", raw_root=str(raw), audio="egemaps", visual="lbp", text_dim=4,
                     features_dir=str(tmp_path / "media"))
    x = train[0]["utterance"]
    assert x.x_audio.shape == (2, 88) and x.x_visual.shape == (2, 160) and len(x.x_text) == 2
    assert np.all(train[1]["utterance"].x_audio.numpy() == 0)                           # the missing clip
    with open(tmp_path / "media" / "train.csv") as f:
        made = [(r["dialogue"], r["utterance_id"], r["audio_present"], r["visual_present"]) for r in csv.DictReader(f)]
    assert made == [("train_dia0", "0", "1", "1"), ("train_dia0", "1", "0", "0"), ("train_dia1", "0", "0", "0")]
    test = MELD(str(root), "test", raw_root=str(raw), audio="egemaps", visual="lbp", text_dim=4,
                features_dir=str(tmp_path / "media"))
    assert test[0]["utterance"].x_visual.shape == (2, 160)
    with pytest.raises(ValueError, match="give raw_root"):
        MELD(str(root), "train", audio="egemaps")


def test_meld_text_from_a_fine_tuned_encoder(tmp_path, tiny_bert):
    root = tmp_path / "meld"
    root.mkdir()
    for split, rows in CLIPS.items():
        _meld_csv(root / f"{split}_sent_emo.csv", rows)
    options = {"finetune_epochs": 1, "finetune_batch_size": 2}
    train = MELD(str(root), "train", text_features=f"finetune:{tiny_bert}", featurize_options=options,
                 features_dir=str(tmp_path / "f"), cache_dir=str(tmp_path / "cache"))
    assert train[0]["utterance"].x_text.shape == (2, 16)
    record = json.loads((tmp_path / "f" / "featurizers.json").read_text())
    assert record["modalities"]["text"]["spec"] == f"finetune:{tiny_bert}" and "audio" not in record["modalities"]
    with pytest.raises(ValueError, match="text_features must be one of .*finetune:MODEL.* got 'finetune'"):
        MELD(str(root), "train", text_features="finetune")
    with pytest.raises(ValueError, match="got 'sentence-transformers'"):       # the one grammar: sbert:MODEL
        MELD(str(root), "train", text_features="sentence-transformers")


def test_iemocap_on_the_command_line(iemocap_root, tmp_path, capsys):
    from dialoggraph.cli import main
    assert main(["train", "--model", "bigru", "--dataset", "iemocap", "--root", str(iemocap_root), "--labels", "4",
                 "--audio", "egemaps", "--epochs", "1", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert "test F1 per class (last seed): happy" in capsys.readouterr().out
    assert main(["train", "--model", "bigru", "--dataset", "iemocap", "--root", str(iemocap_root), "--labels", "5",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "labels must be 6 or 4" in capsys.readouterr().err
