"""Decoding real media: espeak-ng speech and ffmpeg videos of a real face photograph."""
import numpy as np
import pytest

from dialoggraph.features import MediaError, load_audio, load_frames


def test_audio_window_is_decoded_resampled_to_mono(media):
    whole = load_audio(str(media / "line0.wav"))
    window = load_audio(str(media / "line0.wav"), 0.25, 0.75, sample_rate=8000)
    assert whole.sample_rate == 16000 and whole.samples.dtype == np.float32 and not whole.cut
    assert len(window.samples) == 4000 and not window.cut
    assert np.abs(whole.samples).max() > 0.05                       # speech, not silence


def test_flac_mp3_and_the_audio_track_of_a_video_decode_too(media):
    wav = load_audio(str(media / "line0.wav")).samples
    assert len(load_audio(str(media / "line0.flac")).samples) == len(wav)
    mp3 = load_audio(str(media / "line0.mp3")).samples
    assert len(mp3) == len(wav) and np.corrcoef(mp3, wav)[0, 1] > 0.99          # lossy, but the same speech
    for ext in ("mp4", "avi", "mkv"):
        audio = load_audio(str(media / f"face.{ext}"), 0.0, 1.0)
        assert abs(len(audio.samples) - 16000) < 400 and np.abs(audio.samples).max() > 0.05, ext


def test_a_window_past_the_end_is_cut_and_one_after_the_end_is_empty(media):
    length = len(load_audio(str(media / "line0.wav")).samples) / 16000
    cut = load_audio(str(media / "line0.wav"), 0.5, length + 3)
    assert cut.cut and abs(len(cut.samples) / 16000 - (length - 0.5)) < 0.05
    after = load_audio(str(media / "line0.wav"), length + 1, length + 2)
    assert len(after.samples) == 0 and not after.cut


def test_a_video_without_audio_has_no_samples(media):
    assert len(load_audio(str(media / "noface.mp4")).samples) == 0


def test_corrupt_and_missing_files_raise_media_errors(media):
    with pytest.raises(MediaError, match="corrupt.wav: cannot decode the audio"):
        load_audio(str(media / "corrupt.wav"))
    with pytest.raises(MediaError, match="no such media file"):
        load_audio(str(media / "absent.wav"))


def test_frames_are_sampled_over_the_window(media):
    pytest.importorskip("cv2")
    frames = load_frames(str(media / "face.mp4"), 0.5, 1.5, fps=4)
    assert len(frames.images) == 4 and frames.images[0].shape == (256, 256, 3) and not frames.cut
    assert len(load_frames(str(media / "face.mp4"), None, None, fps=100, max_frames=5).images) == 5
    past = load_frames(str(media / "face.mp4"), 1.0, 9.0, fps=2)
    assert past.cut and 1 <= len(past.images) <= 2
    assert load_frames(str(media / "face.mp4"), 5.0, 6.0).images == []
    with pytest.raises(MediaError, match="OpenCV cannot open"):
        load_frames(str(media / "corrupt.wav"))
