"""The transcript table ``dialoggraph featurize`` reads: one row per utterance (docs/data_format.md).

::

    dialogue_id, utterance_id, speaker, text [, emotion, split, media, start, end]

``utterance_id`` is an integer that increases within a dialogue (the rows of a
dialogue are contiguous, in that order); ``media`` is an audio or video file
relative to the media root, ``start``/``end`` seconds within it (absent: the
whole file). Every problem names the file, line, dialogue and utterance.
"""
from __future__ import annotations

import csv
import difflib
import io
import os
from dataclasses import dataclass
from typing import Iterable, Sequence

from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.data.splits import SPLITS
from dialoggraph.io import atomic_write, read_csv

COLUMNS = ("dialogue_id", "utterance_id", "speaker", "text")
OPTIONAL_COLUMNS = ("emotion", "split", "media", "start", "end")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv")


@dataclass(frozen=True)
class Utterance:
    """One row of a transcript.

    Args:
        dialogue: the dialogue id.
        index: the ``utterance_id`` (increasing within the dialogue).
        speaker: who speaks.
        text: what is said (never empty).
        emotion: the label, ``""`` when unlabeled.
        split: ``train``, ``dev`` or ``test``.
        media: the audio/video file relative to the media root, ``""`` when none.
        start: seconds into ``media`` where the utterance starts (``None``: the file's start).
        end: seconds into ``media`` where it ends (``None``: the file's end).
        line: the CSV line, for messages.
    """

    dialogue: str
    index: int
    speaker: str
    text: str
    emotion: str = ""
    split: str = "train"
    media: str = ""
    start: float | None = None
    end: float | None = None
    line: int = 0

    @property
    def where(self) -> str:
        """``dialogue 'd1', utterance 3``: how messages name this utterance."""
        return f"dialogue {self.dialogue!r}, utterance {self.index}"

    @property
    def is_video(self) -> bool:
        return self.media.lower().endswith(VIDEO_EXTENSIONS)


def _seconds(value: str, name: str, where: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise DialogueValidationError(f"{where}: {name} {value!r} is not a number of seconds") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise DialogueValidationError(f"{where}: {name} {value!r} must be a finite number of seconds >= 0")
    return seconds


def _utterance(row: dict[str, str], path: str, has_split: bool) -> Utterance:
    dialogue = (row["dialogue_id"] or "").strip()
    where = f"{path}, line {row['_row']}"
    if not dialogue:
        raise DialogueValidationError(f"{where}: empty dialogue_id")
    value = (row["utterance_id"] or "").strip()
    if not value.lstrip("-").isdigit():
        raise DialogueValidationError(f"{where} (dialogue {dialogue!r}): utterance_id {value!r} is not an integer")
    where = f"{where} (dialogue {dialogue!r}, utterance {int(value)})"
    speaker = (row["speaker"] or "").strip()
    text = " ".join((row["text"] or "").split())
    if not speaker:
        raise DialogueValidationError(f"{where}: empty speaker")
    if not text:
        raise DialogueValidationError(f"{where}: empty text")
    split = (row.get("split") or "").strip() if has_split else "train"
    if split not in SPLITS:
        raise DialogueValidationError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
    media = (row.get("media") or "").strip()
    if media and not media.lower().endswith(AUDIO_EXTENSIONS + VIDEO_EXTENSIONS):
        raise DialogueValidationError(f"{where}: media {media!r} is not audio ({', '.join(AUDIO_EXTENSIONS)}) "
                                      f"or video ({', '.join(VIDEO_EXTENSIONS)})")
    start, end = _seconds(row.get("start", ""), "start", where), _seconds(row.get("end", ""), "end", where)
    if (start is not None or end is not None) and not media:
        raise DialogueValidationError(f"{where}: start/end given without a media file")
    if start is not None and end is not None and end <= start:
        raise DialogueValidationError(f"{where}: end {end} is not after start {start}")
    return Utterance(dialogue, int(value), speaker, text, (row.get("emotion") or "").strip(), split, media,
                     start, end, int(row["_row"]))


def check_columns(row: dict[str, str], path: str) -> None:
    """Refuse a column the transcript format does not have (a misspelled ``emotion`` would otherwise
    leave every utterance unlabelled), suggesting the closest known name."""
    known = COLUMNS + OPTIONAL_COLUMNS
    unknown = [c for c in row if c is not None and c != "_row" and c not in known]
    if unknown:
        column = unknown[0]
        close = difflib.get_close_matches(column, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DialogueValidationError(f"{path}: unknown column {column!r}{hint}; the columns are "
                                      f"{', '.join(known)}")


def check_order(utterances: Sequence[Utterance], source: str) -> None:
    """Refuse a dialogue whose rows are not contiguous, whose ``utterance_id`` does not increase,
    or that spans two splits; ``source`` names the file in messages."""
    seen: dict[str, Utterance] = {}
    for previous, current in zip([None, *utterances], utterances):
        where = f"{source}, line {current.line} ({current.where})"
        if previous is not None and previous.dialogue == current.dialogue:
            if current.index <= previous.index:
                raise DialogueValidationError(f"{where}: utterance_id does not increase (the row before, line "
                                              f"{previous.line}, has {previous.index})")
            if current.split != previous.split:
                raise DialogueValidationError(f"{where}: split {current.split!r} differs from the dialogue's "
                                              f"{previous.split!r}; a dialogue belongs to one split")
        elif current.dialogue in seen:
            raise DialogueValidationError(f"{where}: dialogue {current.dialogue!r} reappears after another "
                                          f"dialogue (first at line {seen[current.dialogue].line}); a dialogue's "
                                          f"rows are contiguous and ids are not reused")
        seen.setdefault(current.dialogue, current)


def read_transcript(path: str, encoding: str = "utf-8") -> list[Utterance]:
    """The validated utterances of a transcript CSV (text in ``encoding``), in file order."""
    if not os.path.isfile(path):
        raise DialogueValidationError(f"{path}: no such transcript file")
    rows = read_csv(path, COLUMNS, encoding)
    if not rows:
        raise DialogueValidationError(f"{path}: no utterances")
    check_columns(rows[0], path)
    has_split = "split" in rows[0]
    utterances = [_utterance(row, path, has_split) for row in rows]
    check_order(utterances, path)
    return utterances


def dialogues(utterances: Iterable[Utterance]) -> dict[str, list[Utterance]]:
    """Utterances grouped by dialogue, in order of appearance."""
    out: dict[str, list[Utterance]] = {}
    for u in utterances:
        out.setdefault(u.dialogue, []).append(u)
    return out


def write_transcript(utterances: Sequence[Utterance], path: str) -> None:
    """Write ``utterances`` as a transcript CSV (atomically) that :func:`read_transcript` reads back."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS + OPTIONAL_COLUMNS)
    for u in utterances:
        writer.writerow([u.dialogue, u.index, u.speaker, u.text, u.emotion, u.split, u.media,
                         "" if u.start is None else u.start, "" if u.end is None else u.end])
    atomic_write(path, lambda f: f.write(text.getvalue().encode()))
