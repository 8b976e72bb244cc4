"""Decoding an utterance's media: its audio samples (ffmpeg) and sampled video frames (OpenCV).

Both take a ``[start, end)`` window in seconds (``None``: the file's start or
end). A window that runs past the end of the file is cut at the end (the
caller counts those); a window that starts past it, or a file without the
stream asked for, gives nothing; a file that cannot be decoded raises
:class:`MediaError` with the decoder's reason.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.extras import require

# A window is "cut" when the decoded audio is this much shorter than asked for.
CUT_TOLERANCE_S = 0.05


class MediaError(DialogueValidationError):
    """A media file is missing or cannot be decoded."""


def ffmpeg_binary() -> str:
    """The ``ffmpeg`` on ``PATH``, else the one the ``imageio-ffmpeg`` package ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    return require("imageio_ffmpeg", "audio", "decoding audio").get_ffmpeg_exe()


@dataclass
class Audio:
    """Decoded mono samples of one utterance.

    Args:
        samples: ``[n]`` float32 in ``[-1, 1]`` (``n = 0``: no audio in the window).
        sample_rate: samples per second.
        cut: the window ran past the end of the file and was cut there.
    """

    samples: np.ndarray
    sample_rate: int
    cut: bool = False


def load_audio(path: str, start: float | None = None, end: float | None = None,
               sample_rate: int = 16000) -> Audio:
    """The mono audio of ``path`` between ``start`` and ``end`` seconds, resampled to ``sample_rate``.

    Audio files and video files (their audio track) alike, through ffmpeg.
    """
    if not os.path.isfile(path):
        raise MediaError(f"{path}: no such media file")
    command = [ffmpeg_binary(), "-nostdin", "-v", "error"]
    if start:
        command += ["-ss", f"{start:.3f}"]
    command += ["-i", path]
    if end is not None:
        command += ["-t", f"{end - (start or 0.0):.3f}"]
    command += ["-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    result = subprocess.run(command, capture_output=True)
    message = result.stderr.decode(errors="replace").strip()
    if result.returncode != 0:
        if "does not contain any stream" in message or "matches no streams" in message:
            return Audio(np.zeros(0, np.float32), sample_rate)          # a video without an audio track
        reason = message.splitlines()[-1] if message else f"ffmpeg exited with {result.returncode}"
        raise MediaError(f"{path}: cannot decode the audio ({reason})")
    samples = np.frombuffer(result.stdout, dtype=np.float32).copy()
    cut = end is not None and len(samples) < (end - (start or 0.0) - CUT_TOLERANCE_S) * sample_rate
    return Audio(samples, sample_rate, bool(cut and len(samples)))


@dataclass
class Frames:
    """Video frames sampled from one utterance.

    Args:
        images: RGB ``uint8`` arrays ``[height, width, 3]`` (empty: no frame in the window).
        cut: the window ran past the end of the video and was cut there.
    """

    images: list
    cut: bool = False


def load_frames(path: str, start: float | None = None, end: float | None = None,
                fps: float = 2.0, max_frames: int = 16) -> Frames:
    """Frames of ``path`` at ``fps`` between ``start`` and ``end`` (at most ``max_frames``, evenly
    spread over the window), read with OpenCV."""
    cv2 = require("cv2", "video", "reading video frames")
    if not os.path.isfile(path):
        raise MediaError(f"{path}: no such media file")
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise MediaError(f"{path}: OpenCV cannot open this video (corrupt or an unsupported codec)")
        rate = capture.get(cv2.CAP_PROP_FPS) or 25.0
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        length = count / rate if count > 0 else None
        begin = start or 0.0
        stop = end if end is not None else length
        if stop is None:
            raise MediaError(f"{path}: the video's length is unknown; give the utterance's end")
        cut = length is not None and stop > length + CUT_TOLERANCE_S
        if length is not None:
            stop = min(stop, length)
        if stop <= begin:
            return Frames([], False)
        n = int(min(max_frames, max(1, round((stop - begin) * fps))))
        images = []
        for t in begin + (np.arange(n) + 0.5) * (stop - begin) / n:
            capture.set(cv2.CAP_PROP_POS_MSEC, float(t) * 1000.0)
            ok, frame = capture.read()
            if ok:
                images.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        if not images and count > 0 and begin == 0:
            raise MediaError(f"{path}: OpenCV reads no frame of this video (corrupt or an unsupported codec)")
        return Frames(images, bool(cut and images))
    finally:
        capture.release()
