import csv
import os
import shutil
import subprocess
import wave

import numpy as np
import pytest
import torch

from dialoggraph.models import (AMBDSGDN, CMGFE, DAGERC, LFVD, MDGETMER, MFCRE, AMBDSGDNConfig, BaselineConfig, BiGRU,
                                CMGFEConfig, DAGERCConfig, LFVDConfig, MDGETMERConfig, MFCREConfig, UtteranceMLP)

# Every trainable model at a tiny size (torch.compile, mixed precision).
TINY_MODELS = [
    (AMBDSGDN, AMBDSGDNConfig(hidden=16, graph_heads=2, heads=2, window=2)),
    (DAGERC, DAGERCConfig(hidden=16, num_layers=2, modalities=("text",))),
    (MDGETMER, MDGETMERConfig(hidden=32, heads=2)),
    (MFCRE, MFCREConfig(channels=32, ffn_channels=64, encoder_ffn_channels=32, classifier_hidden=32, heads=2)),
    (LFVD, LFVDConfig(hidden=32, heads=2)),
    (CMGFE, CMGFEConfig(hidden=32)),
    (BiGRU, BaselineConfig()),
    (UtteranceMLP, BaselineConfig()),
]

SHARED_MELD = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "meld")


def pytest_addoption(parser):
    parser.addoption("--device", default=None,
                     help="where the device suite runs (tests/test_on_device.py): cpu (default) or cuda[:N]; "
                          "also DIALOGGRAPH_TEST_DEVICE")


@pytest.fixture(scope="session")
def device(request) -> str:
    """The device of the device suite: ``--device``, else ``DIALOGGRAPH_TEST_DEVICE``, else cpu; a
    CUDA device this machine lacks skips the suite."""
    name = request.config.getoption("--device") or os.environ.get("DIALOGGRAPH_TEST_DEVICE") or "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip(f"device {name}: torch sees no CUDA GPU")
    return name


@pytest.fixture
def meld_root():
    """The real MELD CSVs in ../shared (skips cleanly when it is absent)."""
    if not os.path.exists(os.path.join(SHARED_MELD, "train_sent_emo.csv")):
        pytest.skip("../shared/data/meld is absent")
    return SHARED_MELD


def random_batch(generator: torch.Generator, num_dialogues: int, max_len: int, max_speakers: int):
    """Random (speaker, batch) of dialogues of length 1..max_len with up to max_speakers speakers."""
    lengths = torch.randint(1, max_len + 1, (num_dialogues,), generator=generator)
    speakers = [torch.randint(0, int(torch.randint(1, max_speakers + 1, (1,), generator=generator)),
                              (int(n),), generator=generator) for n in lengths]
    batch = torch.repeat_interleave(torch.arange(num_dialogues), lengths)
    return torch.cat(speakers), batch


def loss_after_training(model, batch, steps: int, lr: float) -> tuple[float, float]:
    """(first, last) training loss of ``steps`` Adam steps on one batch (trainer's loss)."""
    from dialoggraph.train.trainer import training_loss
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = training_loss(model(batch), batch["utterance"].y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


def assert_dialogues_isolated(model, batch, modalities, dialogue: int = 0, atol: float = 1e-5) -> None:
    """Changing one dialogue's features changes its predictions and no other dialogue's."""
    before = model(batch).logits
    changed = batch.clone()
    inside = batch["utterance"].batch == dialogue
    for m in modalities:
        changed["utterance"][f"x_{m}"][inside] += 3.0
    after = model(changed).logits
    assert torch.allclose(before[~inside], after[~inside], atol=atol)
    assert not torch.allclose(before[inside], after[inside])


@pytest.fixture(autouse=True)
def cli_runs_in_a_temporary_folder(request, tmp_path, monkeypatch):
    """Command-line runs without --out go to runs/ under the current folder: keep them out of the checkout."""
    if request.node.path.parent.name == "cli":
        monkeypatch.chdir(tmp_path)


def write_folder(root, splits=("train",), dialogues=12, length=3, width=4, seed=0):
    """A small dataset in the folder format: two speakers taking turns, labels joy / sad."""
    import numpy as np
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = ["dialogue,speaker,label"] + [f"d{i},{'AB'[j % 2]},{'joy' if (i + j) % 2 else 'sad'}"
                                          for i in range(dialogues) for j in range(length)]
    for split in splits:
        (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
        np.save(root / f"{split}.text.npy", rng.standard_normal((dialogues * length, width)).astype(np.float32))
    return root


# --- real media and tiny learned encoders for the featurize tests (tests/features) -----------------
# Speech from espeak-ng, video from a real face photo with ffmpeg; nothing is downloaded; the tests that
# need espeak-ng / ffmpeg / an extra skip with the reason when it is missing (.ci/run installs them all).

LINES = ["I am so happy today", "This is terrible news", "What a wonderful surprise", "I feel sad and tired",
         "Stop that right now", "Okay fine whatever", "I love this so much", "Why would you do that"]
EMOTIONS = ["joy", "sadness", "surprise", "sadness", "anger", "neutral", "joy", "anger"]


def needs(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (apt-get install espeak-ng ffmpeg)")


def speak(text: str, path: str) -> str:
    subprocess.run(["espeak-ng", "-w", path, text], check=True, capture_output=True)
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-v", "error", *args], check=True, capture_output=True)


def write_silence(path: str, seconds: float, rate: int = 16000) -> str:
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.zeros(int(seconds * rate), np.int16).tobytes())
    return path


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """A folder of media: speech wavs, a flac and an mp3, a face video with speech (mp4, avi, mkv), a
    video without a face and without audio, silence, a corrupt file."""
    if shutil.which("espeak-ng") is None or shutil.which("ffmpeg") is None:
        pytest.skip("needs espeak-ng and ffmpeg (apt-get install espeak-ng ffmpeg)")
    skimage_io = pytest.importorskip("skimage.io")
    skimage_data = pytest.importorskip("skimage.data")
    root = tmp_path_factory.mktemp("media")
    for i, line in enumerate(LINES):
        speak(line, str(root / f"line{i}.wav"))
    ffmpeg("-i", str(root / "line0.wav"), str(root / "line0.flac"))
    soundfile = pytest.importorskip("soundfile")             # Debian's ffmpeg has no mp3 encoder; libsndfile has
    soundfile.write(str(root / "line0.mp3"), *soundfile.read(str(root / "line0.wav")), format="MP3")
    skimage_io.imsave(str(root / "face.png"), skimage_data.astronaut())          # a real face photograph
    speech = speak("Hello there, this is a face talking for a while", str(root / "talk.wav"))
    for ext, codec in (("mp4", "mpeg4"), ("avi", "mpeg4"), ("mkv", "mpeg4")):
        ffmpeg("-loop", "1", "-i", str(root / "face.png"), "-i", speech, "-t", "2", "-r", "10",
               "-vf", "scale=256:256", "-c:v", codec, "-c:a", "aac" if ext != "avi" else "pcm_s16le",
               "-shortest", str(root / f"face.{ext}"))
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128:d=2", "-r", "10", "-c:v", "mpeg4", str(root / "noface.mp4"))
    write_silence(str(root / "silence.wav"), 1.0)
    (root / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00garbage" * 50)
    return root


def write_rows(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dialogue_id", "utterance_id", "speaker", "text", "emotion", "split", "media", "start",
                         "end"])
        writer.writerows(rows)
    return str(path)


def conversation_rows(dialogues: int = 6, length: int = 4, test_from: int = 5, video_dialogue: bool = True):
    """Transcript rows: spoken dialogues (train, then test from ``test_from``), plus one with the face video."""
    rows = []
    for d in range(dialogues):
        for u in range(length):
            k = (d * length + u) % len(LINES)
            rows.append([f"dia{d}", u, "AB"[u % 2], LINES[k], EMOTIONS[k], "test" if d >= test_from else "train",
                         f"line{k}.wav", "", ""])
    if video_dialogue:
        rows += [["video", 0, "A", "hello there", "joy", "test", "face.mp4", 0.0, 1.5],
                 ["video", 1, "B", "nobody is here", "neutral", "test", "noface.mp4", "", ""]]
    return rows


@pytest.fixture
def transcript(media, tmp_path):
    return write_rows(tmp_path / "transcript.csv", conversation_rows())


def assert_same_arrays(a: str, b: str) -> None:
    names = sorted(f for f in os.listdir(a) if f.endswith(".npy"))
    assert names == sorted(f for f in os.listdir(b) if f.endswith(".npy"))
    for name in names:
        np.testing.assert_array_equal(np.load(os.path.join(a, name)), np.load(os.path.join(b, name)), err_msg=name)


# --- tiny learned encoders, saved to a temporary folder and loaded back by path ---------------------

WORDS = sorted({w.lower() for line in LINES for w in line.split()} | {"a", "b", ":", "hello", "there"})


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    t = pytest.importorskip("transformers")
    path = str(tmp_path_factory.mktemp("tiny-bert"))
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS)}
    tokenizer = t.BertTokenizer(vocab=vocab)
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    t.BertModel(t.BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=32, max_position_embeddings=64)).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_wav2vec2(tmp_path_factory):
    t = pytest.importorskip("transformers")
    path = str(tmp_path_factory.mktemp("tiny-wav2vec2"))
    torch.manual_seed(0)
    t.Wav2Vec2Model(t.Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4),
                                     num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)).save_pretrained(path)
    t.Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory):
    t = pytest.importorskip("transformers")
    path = str(tmp_path_factory.mktemp("tiny-vit"))
    torch.manual_seed(0)
    t.ViTModel(t.ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32)).save_pretrained(path)
    t.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path
