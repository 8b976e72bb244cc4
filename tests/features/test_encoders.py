"""The encoders on real media; learned ones are tiny random models saved to a temporary folder and
loaded back by path, so the real loading code runs (nothing is downloaded)."""
import json
import os

import numpy as np
import pytest
import torch

from dialoggraph.features import (ContextualTextEncoder, FaceAligner, HOGDescriptor, LBPDescriptor,
                                  OpenSmileFunctionals, PretrainedAudioEncoder, PretrainedImageEncoder,
                                  SentenceTransformerFeaturizer, TfidfSVDFeaturizer, Utterance, load_audio,
                                  load_frames)
from dialoggraph.features.contextual import context_pairs
from conftest import EMOTIONS, LINES

# --- audio -------------------------------------------------------------------------------------------

def test_egemaps_and_compare_functionals_of_speech(media):
    pytest.importorskip("opensmile")
    audio = load_audio(str(media / "line0.wav"))
    egemaps = OpenSmileFunctionals("eGeMAPSv02")
    vector = egemaps(audio.samples, audio.sample_rate)
    assert egemaps.dim == 88 and vector.shape == (88,) and np.isfinite(vector).all()
    other = egemaps(load_audio(str(media / "line1.wav")).samples, 16000)
    assert not np.allclose(vector, other)                     # different sentences, different functionals
    compare = OpenSmileFunctionals("ComParE_2016")
    assert compare.dim == 6373 and compare(audio.samples, 16000).shape == (6373,)
    with pytest.raises(ValueError, match="feature_set must be one of"):
        OpenSmileFunctionals("GeMAPS")


def test_audio_featurizer_gives_none_without_sound_and_a_vector_for_silence(media):
    pytest.importorskip("opensmile")
    featurizer = OpenSmileFunctionals()
    silence, cut = featurizer.encode(str(media / "silence.wav"), None, None)
    assert silence.shape == (88,) and np.isfinite(silence).all() and not cut
    assert featurizer.encode(str(media / "noface.mp4"), None, None) == (None, False)          # no audio track
    assert featurizer.encode(str(media / "line0.wav"), 0.0, 0.05)[0] is None                 # shorter than 0.1 s
    assert featurizer.encode(str(media / "line0.wav"), 30.0, 31.0)[0] is None                # after the end


def test_pretrained_audio_encoder_is_the_time_average_of_the_last_hidden_states(media, tiny_wav2vec2):
    transformers = pytest.importorskip("transformers")
    encoder = PretrainedAudioEncoder(tiny_wav2vec2)
    audio = load_audio(str(media / "line2.wav"), sample_rate=encoder.sample_rate)
    vector = encoder(audio.samples, audio.sample_rate)
    model = transformers.Wav2Vec2Model.from_pretrained(tiny_wav2vec2).double().eval()
    x = torch.from_numpy(audio.samples).double()
    x = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + 1e-7)        # the extractor's normalisation
    with torch.no_grad():
        hidden = model(x[None]).last_hidden_state[0]
    reference = sum(hidden[t] for t in range(hidden.shape[0])) / hidden.shape[0]
    assert encoder.dim == 16 and vector.shape == (16,)
    np.testing.assert_allclose(vector, reference.numpy(), rtol=1e-4, atol=1e-5)


# --- visual ------------------------------------------------------------------------------------------

def test_face_aligner_finds_the_face_and_levels_the_eyes(media):
    cv2 = pytest.importorskip("cv2")
    pytest.importorskip("skimage")
    photo = cv2.cvtColor(cv2.imread(str(media / "face.png")), cv2.COLOR_BGR2RGB)
    aligner = FaceAligner(size=48)
    crop = aligner(photo)
    assert crop.shape == (48, 48, 3) and crop.dtype == np.uint8
    assert aligner(np.full((200, 200, 3), 128, np.uint8)) is None
    # a tilted photo: the aligned crop is closer to the upright one than the tilted crop would be
    tilt = cv2.warpAffine(photo, cv2.getRotationMatrix2D((256, 256), 12, 1.0), (512, 512),
                          borderMode=cv2.BORDER_REPLICATE)
    aligned = aligner(tilt)
    unaligned = FaceAligner(size=48)
    unaligned.eyes = type("NoEyes", (), {"detectMultiScale": lambda *a, **k: ()})()   # no eyes: no rotation
    plain = unaligned(tilt)
    assert aligned is not None and plain is not None

    def distance(a, b):
        return np.abs(a.astype(float) - b.astype(float)).mean()
    assert distance(aligned, crop) < distance(plain, crop)


def test_hog_is_scikit_image_hog_of_the_grey_crop(media):
    feature = pytest.importorskip("skimage.feature")
    color = pytest.importorskip("skimage.color")
    crop = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    hog = HOGDescriptor(64)
    expected = feature.hog(color.rgb2gray(crop), orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    assert hog.dim == 1764
    np.testing.assert_allclose(hog([crop])[0], expected, rtol=1e-6)


def test_lbp_is_a_normalised_uniform_pattern_histogram_per_cell():
    pytest.importorskip("skimage")
    crop = np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    lbp = LBPDescriptor(points=8, radius=1, grid=4)
    vector = lbp([crop, crop])
    assert vector.shape == (2, 160) and lbp.dim == 160
    cells = vector[0].reshape(16, 10)
    np.testing.assert_allclose(cells.sum(1), 1.0, rtol=1e-6)                   # one histogram per cell
    flat = np.zeros((64, 64, 3), np.uint8)
    assert lbp([flat])[0].reshape(16, 10)[:, 8].min() == pytest.approx(1.0)   # flat image: all "uniform 8"


def test_visual_featurizer_averages_face_descriptors_and_gives_none_without_a_face(media):
    pytest.importorskip("cv2")
    featurizer = LBPDescriptor(fps=2)
    vector, cut = featurizer.encode(str(media / "face.mp4"), 0.0, 1.5)
    assert vector.shape == (160,) and not cut
    frames = load_frames(str(media / "face.mp4"), 0.0, 1.5, 2)
    crops = [featurizer.aligner(f) for f in frames.images]
    np.testing.assert_allclose(vector, LBPDescriptor()(crops).mean(0), rtol=1e-6)
    assert featurizer.encode(str(media / "noface.mp4"), None, None) == (None, False)


def test_pretrained_image_encoder_loads_by_path(media, tiny_vit):
    transformers = pytest.importorskip("transformers")
    encoder = PretrainedImageEncoder(tiny_vit)
    crops = [np.random.default_rng(i).integers(0, 255, (48, 48, 3), dtype=np.uint8) for i in range(3)]
    out = encoder(crops)
    assert out.shape == (3, 16) and encoder.dim == 16
    model = transformers.AutoModel.from_pretrained(tiny_vit).eval()
    pixels = transformers.AutoImageProcessor.from_pretrained(tiny_vit)(images=crops[:1], return_tensors="pt")
    with torch.no_grad():
        np.testing.assert_allclose(out[0], model(**pixels).pooler_output[0].numpy(), rtol=1e-5, atol=1e-6)


def test_timm_image_encoder_loads_a_local_weights_file(tmp_path):
    timm = pytest.importorskip("timm", reason="timm needs a torchvision built for the installed torch")
    from dialoggraph.features import TimmImageEncoder
    model = timm.create_model("resnet10t", pretrained=False, num_classes=0)
    torch.save(model.state_dict(), tmp_path / "w.pth")
    encoder = TimmImageEncoder(f"resnet10t@{tmp_path / 'w.pth'}")
    assert encoder([np.zeros((64, 64, 3), np.uint8)]).shape == (1, encoder.dim)


# --- text --------------------------------------------------------------------------------------------

def test_tfidf_state_saved_and_loaded_gives_the_same_features(tmp_path):
    texts = LINES * 3
    fitted = TfidfSVDFeaturizer(dim=4, min_df=1).fit(texts)
    fitted.save(str(tmp_path / "t.npz"))
    loaded = TfidfSVDFeaturizer.load(str(tmp_path / "t.npz"))
    probe = ["so happy", "terrible surprise", "unknown words only"]
    np.testing.assert_allclose(loaded.transform(probe), fitted.transform(probe), rtol=1e-6)
    assert (loaded.dim, loaded.min_df) == (4, 1)


def test_context_pairs_hold_the_k_previous_utterances_of_the_same_dialogue_most_recent_first():
    pairs = context_pairs(["a", "b", "c", "d"], ["X", "Y", "X", "Z"], ["d1", "d1", "d1", "d2"], 2, "[SEP]")
    assert pairs == [("X: a", ""), ("Y: b", "X: a"), ("X: c", "Y: b [SEP] X: a"), ("Z: d", "")]


def _toy(n_dialogues, seed):
    """Utterances of ``n_dialogues`` 4-turn dialogues (5 emotions)."""
    rng = np.random.default_rng(seed)
    out = []
    for d in range(n_dialogues):
        for u in range(4):
            k = int(rng.integers(len(LINES)))
            out.append(Utterance(f"d{d}", u, "ab"[u % 2], LINES[k], EMOTIONS[k]))
    return out


NAMES = sorted(set(EMOTIONS))


def test_contextual_encoder_pools_the_mean_over_real_tokens(tiny_bert):
    encoder = ContextualTextEncoder(tiny_bert, context=1)
    toy = _toy(3, 0)
    batched = encoder.transform(toy, batch_size=5)
    pairs = context_pairs([u.text for u in toy], [u.speaker for u in toy], [u.dialogue for u in toy], 1, "[SEP]")
    model = encoder.encoder.double().eval()
    for i in (0, 1, 6):                                  # one at a time: no padding at all
        inputs = encoder.tokenizer(*pairs[i], return_tensors="pt")
        with torch.no_grad():
            hidden = model(**inputs).last_hidden_state[0]
        np.testing.assert_allclose(batched[i], hidden.mean(0).numpy(), rtol=1e-4, atol=1e-5)


def test_contextual_encoder_learns_keeps_the_best_dev_epoch_and_reloads(tiny_bert, tmp_path):
    train, dev = _toy(12, 0), _toy(4, 1)
    encoder = ContextualTextEncoder(tiny_bert, context=1, epochs=4, lr=5e-3, batch_size=8)
    before = encoder.transform(dev)
    encoder.fit(train, dev, NAMES, progress=False)
    scores = [h["dev_weighted_f1"] for h in encoder.history]
    assert len(scores) == 4 and encoder.best_epoch == 1 + int(np.argmax(scores))
    assert max(scores) > 50 and not np.allclose(before, encoder.transform(dev))
    encoder.save(str(tmp_path / "enc"))
    again = ContextualTextEncoder.load(str(tmp_path / "enc"))
    np.testing.assert_allclose(again.transform(dev), encoder.transform(dev), rtol=1e-5, atol=1e-6)
    settings = json.loads((tmp_path / "enc" / "dialoggraph_encoder.json").read_text())
    assert settings["best_epoch"] == encoder.best_epoch and settings["context"] == 1
    with pytest.raises(FileNotFoundError, match="not a saved ContextualTextEncoder"):
        ContextualTextEncoder.load(tiny_bert)


def test_an_interrupted_fine_tuning_resumes_to_the_same_encoder(tiny_bert, tmp_path, monkeypatch):
    train, dev = _toy(8, 0), _toy(3, 1)

    def make():
        return ContextualTextEncoder(tiny_bert, context=1, epochs=3, lr=5e-3, batch_size=8)
    whole = make().fit(train, dev, NAMES, state_dir=str(tmp_path / "a"), progress=False)
    calls = []
    real = ContextualTextEncoder._dev_f1

    def dies_in_epoch_two(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *args)
    monkeypatch.setattr(ContextualTextEncoder, "_dev_f1", dies_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        make().fit(train, dev, NAMES, state_dir=str(tmp_path / "b"), progress=False)
    monkeypatch.setattr(ContextualTextEncoder, "_dev_f1", real)
    resumed = make().fit(train, dev, NAMES, state_dir=str(tmp_path / "b"), progress=False)
    assert resumed.history == whole.history and resumed.best_epoch == whole.best_epoch
    np.testing.assert_array_equal(resumed.transform(dev), whole.transform(dev))
    assert sorted(os.listdir(tmp_path / "b")) == ["best", "last.pt"]
    assert "optimizer" not in torch.load(tmp_path / "b" / "last.pt", weights_only=True)     # finished: slim
    again = make().fit(train, dev, NAMES, state_dir=str(tmp_path / "b"), progress=False)
    assert again.history == whole.history
    np.testing.assert_array_equal(again.transform(dev), whole.transform(dev))


def test_sentence_transformer_by_path_is_the_mean_of_its_encoder(tiny_bert, tmp_path, transcript):
    st = pytest.importorskip("sentence_transformers")
    transformers = pytest.importorskip("transformers")
    path = str(tmp_path / "sbert")
    try:                                             # sentence-transformers 6 moved the modules
        from sentence_transformers.sentence_transformer import modules
    except ImportError:
        modules = st.models
    st.SentenceTransformer(modules=[modules.Transformer(tiny_bert), modules.Pooling(16, "mean")]).save(path)
    featurizer = SentenceTransformerFeaturizer(path)
    x = featurizer.transform(["i am so happy today", "stop that right now"])
    assert x.shape == (2, 16) and featurizer.dim == 16
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    model = transformers.AutoModel.from_pretrained(tiny_bert).eval()
    with torch.no_grad():
        hidden = model(**tokenizer("i am so happy today", return_tensors="pt")).last_hidden_state[0]
    np.testing.assert_allclose(x[0], hidden.mean(0).numpy(), rtol=1e-4, atol=1e-5)
    from dialoggraph.features import FeaturizeConfig, featurize
    record = featurize(transcript, str(tmp_path / "out"), config=FeaturizeConfig(text=f"sbert:{path}"),
                       progress=False)
    assert record["modalities"]["text"]["model"] == path and record["modalities"]["text"]["dim"] == 16


def test_a_tie_keeps_the_earlier_epoch(tiny_bert, monkeypatch):
    scores = iter([40.0, 60.0, 60.0])
    monkeypatch.setattr(ContextualTextEncoder, "_dev_f1", lambda self, *args: next(scores))
    train, dev = _toy(4, 0), _toy(2, 1)
    encoder = ContextualTextEncoder(tiny_bert, context=1, epochs=3, batch_size=8)
    assert encoder.fit(train, dev, NAMES, progress=False).best_epoch == 2
