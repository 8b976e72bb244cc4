"""featurize(): transcript + real media -> the folder format, cached per utterance, never half written."""
import csv
import json
import os
import shutil

import numpy as np
import pytest

from dialoggraph.data import DialogueValidationError
from dialoggraph.datasets import DialogueFolder
from dialoggraph.features import FeaturizeConfig, MediaError, featurize, read_record
from dialoggraph.features import pipeline
from conftest import assert_same_arrays, conversation_rows, write_rows

pytest.importorskip("opensmile")
pytest.importorskip("cv2")
pytest.importorskip("skimage")

AUDIO_VISUAL = FeaturizeConfig(audio="egemaps", visual="lbp")


def read_split(folder, split):
    with open(os.path.join(folder, f"{split}.csv")) as f:
        return list(csv.DictReader(f))


def test_writes_the_folder_format_and_a_record_of_what_made_it(transcript, media, tmp_path):
    out = str(tmp_path / "out")
    record = featurize(transcript, out, str(media), AUDIO_VISUAL, progress=False)
    assert record == read_record(out)
    assert record["splits"] == {"train": 16, "dev": 4, "test": 6}                 # dev carved from train
    assert record["label_names"] == ["anger", "joy", "neutral", "sadness", "surprise"]
    text, audio, visual = (record["modalities"][m] for m in ("text", "audio", "visual"))
    assert text["spec"] == "tfidf" and text["state"] == "featurizers/text.npz"
    assert (audio["dim"], audio["feature_set"], audio["missing"], audio["cut"]) == (88, "eGeMAPSv02", 1, 0)
    assert (visual["dim"], visual["missing"], visual["fps"]) == (160, 25, 2.0)      # one utterance shows a face
    assert "opensmile" in audio["versions"] and "scikit-image" in visual["versions"]
    test = read_split(out, "test")
    video = {r["utterance_id"]: r for r in test if r["dialogue"] == "video"}
    assert (video["0"]["audio_present"], video["0"]["visual_present"]) == ("1", "1")
    assert (video["1"]["audio_present"], video["1"]["visual_present"]) == ("0", "0")     # no audio track, no face
    arrays = {m: np.load(os.path.join(out, f"test.{m}.npy")) for m in ("text", "audio", "visual")}
    missing = [i for i, r in enumerate(test) if r["visual_present"] == "0"]
    assert np.all(arrays["visual"][missing] == 0) and np.any(arrays["visual"][[len(test) - 2]] != 0)
    train_audio = np.load(os.path.join(out, "train.audio.npy"))
    np.testing.assert_allclose(train_audio.mean(0), 0, atol=1e-4)             # z-scored with train statistics
    varying = train_audio.std(0) > 0
    np.testing.assert_allclose(train_audio.std(0)[varying], 1, rtol=1e-3)
    from dialoggraph.features import OpenSmileFunctionals
    direct, _ = OpenSmileFunctionals().encode(str(media / test[0]["media"]), None, None)
    with np.load(os.path.join(out, "featurizers", "audio.npz")) as norm:      # test rows use train statistics
        np.testing.assert_allclose(arrays["audio"][0], (direct - norm["mean"]) / norm["std"], rtol=1e-4, atol=1e-4)
    for split in ("train", "dev", "test"):
        data = DialogueFolder(out, split, cache_dir=str(tmp_path / "cache"))
        assert sorted(data.modalities) == ["audio", "text", "visual"] and data.label_names == record["label_names"]
    assert not os.path.exists(os.path.join(out, ".staging"))


def test_an_interrupted_run_resumes_from_its_cache_and_writes_the_same_folder(transcript, media, tmp_path,
                                                                            monkeypatch):
    whole = str(tmp_path / "whole")
    featurize(transcript, whole, str(media), AUDIO_VISUAL, progress=False)
    out = str(tmp_path / "out")
    real, done = pipeline._extract, []

    def dies_after_five(job):
        if len(done) == 5:
            raise KeyboardInterrupt
        done.append(job)
        return real(job)
    monkeypatch.setattr(pipeline, "_extract", dies_after_five)
    with pytest.raises(KeyboardInterrupt):
        featurize(transcript, out, str(media), AUDIO_VISUAL, progress=False)
    assert sorted(os.listdir(out)) == [".cache", ".staging"]                  # nothing a reader could take
    done.clear()
    monkeypatch.setattr(pipeline, "_extract", lambda job: done.append(job) or real(job))
    featurize(transcript, out, str(media), AUDIO_VISUAL, progress=False)
    assert 0 < len(done) <= 26 + 2 - 5          # 26 audio and 2 visual jobs; 5 done and cached before
    assert_same_arrays(whole, out)


def test_two_workers_make_the_same_features(transcript, media, tmp_path):
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    featurize(transcript, one, str(media), FeaturizeConfig(audio="egemaps"), progress=False)
    featurize(transcript, two, str(media), FeaturizeConfig(audio="egemaps", workers=2), progress=False)
    assert_same_arrays(one, two)


def test_unreadable_media_is_refused_after_the_readable_ones_are_cached(media, tmp_path):
    folder = tmp_path / "media"
    shutil.copytree(media, folder)
    shutil.copy(folder / "corrupt.wav", folder / "line3.wav")
    rows = conversation_rows(video_dialogue=False)
    transcript = write_rows(tmp_path / "t.csv", rows)
    out = str(tmp_path / "out")
    with pytest.raises(MediaError, match=r"3 utterance\(s\) with unreadable media \(the others are cached.*"
                                         r"dialogue 'dia0', utterance 3: .*line3.wav: cannot decode"):
        featurize(transcript, out, str(folder), FeaturizeConfig(audio="egemaps"), progress=False)
    assert not os.path.exists(os.path.join(out, "featurizers.json"))
    assert not any(name.endswith((".csv", ".npy")) for name in os.listdir(out))
    cached = sum(len(files) for _, _, files in os.walk(os.path.join(out, ".cache")))
    assert cached == 7                       # one file per distinct readable (media, window): line0-7 but line3
    shutil.copy(media / "line3.wav", folder / "line3.wav")
    record = featurize(transcript, out, str(folder), FeaturizeConfig(audio="egemaps"), progress=False)
    assert record["modalities"]["audio"]["missing"] == 0


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[5].__setitem__(6, "absent.wav"), r"1 media file\(s\) not found under .*, first: dialogue "
                                                        r"'dia1', utterance 1: .*absent.wav"),
    (lambda rows: rows[2].__setitem__(3, " "), r"dialogue 'dia0', utterance 2\): empty text"),
    (lambda rows: rows[2].__setitem__(1, 0), r"dialogue 'dia0', utterance 0\): utterance_id does not increase"),
])
def test_bad_input_is_refused_before_anything_is_written(media, tmp_path, change, message):
    rows = conversation_rows()
    change(rows)
    out = tmp_path / "out"
    with pytest.raises(DialogueValidationError, match=message):
        featurize(write_rows(tmp_path / "t.csv", rows), str(out), str(media), AUDIO_VISUAL, progress=False)
    assert not out.exists()


def test_a_window_past_the_end_of_its_file_is_cut_and_counted(media, tmp_path):
    rows = conversation_rows(video_dialogue=False)
    rows[0][7:9] = ["0.5", "30"]
    record = featurize(write_rows(tmp_path / "t.csv", rows), str(tmp_path / "out"), str(media),
                       FeaturizeConfig(audio="egemaps"), progress=False)
    assert record["modalities"]["audio"]["cut"] == 1 and record["modalities"]["audio"]["missing"] == 0


def test_a_featurized_folder_is_not_replaced_without_overwrite(transcript, media, tmp_path):
    out = str(tmp_path / "out")
    featurize(transcript, out, str(media), progress=False)
    with pytest.raises(FileExistsError, match="already featurized"):
        featurize(transcript, out, str(media), progress=False)
    featurize(transcript, out, str(media), FeaturizeConfig(text="none", audio="egemaps"), overwrite=True,
              progress=False)
    assert not os.path.exists(os.path.join(out, "train.text.npy"))            # the old run's files are gone
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty and not a featurize folder"):
        featurize(transcript, str(tmp_path / "other"), str(media), progress=False)


def test_fitted_featurizers_make_the_same_features_for_the_same_rows(transcript, media, tmp_path):
    out, again = str(tmp_path / "out"), str(tmp_path / "again")
    featurize(transcript, out, str(media), AUDIO_VISUAL, progress=False)
    featurize(transcript, again, str(media), fitted=out, progress=False)
    assert_same_arrays(out, again)
    with open(os.path.join(again, "featurizers.json")) as f:
        assert json.load(f)["options"] == read_record(out)["options"]


def test_config_refuses_unknown_values():
    from dialoggraph.config import ConfigError
    with pytest.raises(ConfigError, match=r"--audio 'opensmile': expected one of egemaps, compare, hf:MODEL"):
        FeaturizeConfig(audio="opensmile")
    with pytest.raises(ConfigError, match="expected one of tfidf, sbert:MODEL, finetune:MODEL, none"):
        FeaturizeConfig(text="finetune")
    with pytest.raises(ConfigError, match="workers must be >= 1"):
        FeaturizeConfig(workers=0)


def test_learned_encoders_by_path_in_worker_processes(transcript, media, tmp_path, tiny_wav2vec2, tiny_vit):
    config = dict(text="none", audio=f"hf:{tiny_wav2vec2}", visual=f"hf:{tiny_vit}")
    one, two = str(tmp_path / "one"), str(tmp_path / "two")
    record = featurize(transcript, one, str(media), FeaturizeConfig(**config), progress=False)
    featurize(transcript, two, str(media), FeaturizeConfig(**config, workers=2), progress=False)
    np.testing.assert_allclose(np.load(os.path.join(one, "train.audio.npy")),
                               np.load(os.path.join(two, "train.audio.npy")), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(os.path.join(one, "test.visual.npy")),
                               np.load(os.path.join(two, "test.visual.npy")), rtol=1e-5, atol=1e-6)
    audio, visual = record["modalities"]["audio"], record["modalities"]["visual"]
    assert (audio["model"], audio["dim"], visual["model"], visual["dim"]) == (tiny_wav2vec2, 16, tiny_vit, 16)
    assert "transformers" in audio["versions"]


def test_fine_tuned_text_features_are_kept_with_the_folder(transcript, media, tmp_path, tiny_bert):
    out, again = str(tmp_path / "out"), str(tmp_path / "again")
    config = FeaturizeConfig(text=f"finetune:{tiny_bert}", finetune_epochs=2, finetune_lr=5e-3,
                             finetune_batch_size=8, context=1)
    record = featurize(transcript, out, str(media), config, progress=False)
    text = record["modalities"]["text"]
    assert text["state"] == "featurizers/text" and text["dim"] == 16 and len(text["history"]) == 2
    assert text["best_epoch"] == 1 + int(np.argmax([h["dev_weighted_f1"] for h in text["history"]]))
    assert os.path.exists(os.path.join(out, "featurizers", "text", "dialoggraph_head.pt"))
    shutil.rmtree(os.path.join(out, ".cache"))                           # the kept encoder is enough
    featurize(transcript, again, str(media), fitted=out, progress=False)
    assert_same_arrays(out, again)


def test_nothing_to_make_is_refused_before_writing(transcript, tmp_path):
    with pytest.raises(DialogueValidationError, match="nothing to make"):
        featurize(transcript, str(tmp_path / "out"), config=FeaturizeConfig(text="none"), progress=False)
    assert not (tmp_path / "out").exists()
