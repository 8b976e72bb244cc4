"""IEMOCAP (Busso et al., Language Resources and Evaluation 2008) from its official release.

::

    root/                                 IEMOCAP_full_release
      Session1 .. Session5/dialog/
        transcriptions/Ses01F_impro01.txt   Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.
        EmoEvaluation/Ses01F_impro01.txt    [6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5, 2.5, 2.5]
        wav/Ses01F_impro01.wav              the dialogue's audio
        avi/DivX/Ses01F_impro01.avi         the dialogue's video

A dialogue is one ``transcriptions`` file, its utterances in order of start
time, the speaker the ``F``/``M`` of the utterance id; each utterance's media
is the dialogue's wav (or, with ``video=True``, avi) between its start and end.
Sessions 1-4 are train and session 5 is test; dev is 10% of the train
dialogues (:func:`~dialoggraph.io.dev_holdout`, as every dataset here
without a dev split). Labels: the 6-class map of DialogueGCN / MMGCN / the
papers (happy, sad, neutral, angry, excited, frustrated) or the 4-class one
(excited merged into happy). Utterances with another label (fear, surprise,
disgust, other, ``xxx`` = no agreement) stay in the dialogue as unlabeled
context; the community feature files drop them instead, so their dialogues
are shorter.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any, Callable

from dialoggraph.config import to_dict
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.feature_pickle import IEMOCAP_LABELS
from dialoggraph.datasets.folder import DialogueFolder
from dialoggraph.features.pipeline import RECORD, FeaturizeConfig, featurize
from dialoggraph.features.transcript import Utterance

LABEL_MAPS = {
    "6": {"hap": "happy", "sad": "sad", "neu": "neutral", "ang": "angry", "exc": "excited", "fru": "frustrated"},
    "4": {"hap": "happy", "exc": "happy", "sad": "sad", "neu": "neutral", "ang": "angry"},
}
LABEL_NAMES = {"6": IEMOCAP_LABELS, "4": ["happy", "sad", "neutral", "angry"]}
TEST_SESSIONS = (5,)
_TURN = re.compile(r"^(\S+)\s+\[(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\]:\s*(.*)$")
_EVALUATION = re.compile(r"^\[[\d.\s-]+\]\s+(\S+)\s+(\w+)\s+\[")


def _visible(folder: str) -> list[str]:
    return sorted(f for f in os.listdir(folder) if f.endswith(".txt") and not f.startswith("."))


def iemocap_transcript(root: str, labels: str = "6", video: bool = False) -> list[Utterance]:
    """The official release under ``root`` as transcript rows (see the module docstring)."""
    if labels not in LABEL_MAPS:
        raise ValueError(f"labels must be '6' or '4', got {labels!r}")
    sessions = [s for s in range(1, 6) if os.path.isdir(os.path.join(root, f"Session{s}", "dialog"))]
    if not sessions:
        raise DialogueValidationError(f"{root}: no Session1..Session5/dialog folders (the IEMOCAP release layout)")
    out = []
    for session in sessions:
        dialog = os.path.join(root, f"Session{session}", "dialog")
        for name in _visible(os.path.join(dialog, "transcriptions")):
            dialogue = name[:-4]
            emotions = {}
            evaluation = os.path.join(dialog, "EmoEvaluation", name)
            if not os.path.exists(evaluation):
                raise DialogueValidationError(f"{evaluation}: missing (every transcription has its EmoEvaluation)")
            with open(evaluation, encoding="utf-8", errors="replace") as f:
                for line in f:
                    match = _EVALUATION.match(line.strip())
                    if match:
                        emotions[match.group(1)] = match.group(2)
            turns = []
            path = os.path.join(dialog, "transcriptions", name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    match = _TURN.match(line.strip())
                    if match and match.group(1).startswith(dialogue + "_"):
                        turn, start, end, text = match.groups()
                        if text.strip():
                            turns.append((float(start), float(end), turn, text, number))
            media = os.path.join(f"Session{session}", "dialog", *(("avi", "DivX", dialogue + ".avi") if video
                                                                  else ("wav", dialogue + ".wav")))
            split = "test" if session in TEST_SESSIONS else "train"
            for index, (start, end, turn, text, number) in enumerate(sorted(turns)):
                speaker = turn.rsplit("_", 1)[1][0]
                emotion = LABEL_MAPS[labels].get(emotions.get(turn, ""), "")
                out.append(Utterance(dialogue, index, speaker, " ".join(text.split()), emotion, split, media,
                                     start, max(end, start + 0.01), number))
    return out


class IEMOCAP(DialogueFolder):
    """IEMOCAP from its official release, featurized through :func:`~dialoggraph.features.featurize`.

    The first use featurizes the release into ``features_dir`` (default
    ``root/featurized/<labels>class-<digest of the options>``); later uses read
    that folder (an interrupted featurization resumes).

    Args:
        root: the release folder (``Session1`` .. ``Session5``).
        split: ``"train"``, ``"dev"`` or ``"test"``.
        labels: ``"6"`` or ``"4"`` classes.
        text, audio, visual: what to make (``FeaturizeConfig``'s values; ``visual`` reads the avi files).
        options: other :class:`~dialoggraph.features.FeaturizeConfig` fields (``workers``, ``fps`` ...).
        features_dir: where the featurized folder goes (the release is often read-only).
    """

    def __init__(self, root: str, split: str = "train", labels: str = "6", text: str = "tfidf",
                 audio: str | None = None, visual: str | None = None, options: dict[str, Any] | None = None,
                 features_dir: str | None = None, transform: Callable | None = None,
                 pre_transform: Callable | None = None, pre_filter: Callable | None = None,
                 force_reload: bool = False, cache_dir: str | None = None, progress: bool = True):
        config = FeaturizeConfig(text=text, audio=audio, visual=visual, **(options or {}))
        digest = hashlib.sha1(json.dumps([labels, to_dict(config)], sort_keys=True).encode()).hexdigest()[:10]
        folder = features_dir or os.path.join(root, "featurized", f"{labels}class-{digest}")
        if not os.path.exists(os.path.join(folder, RECORD)):
            featurize(iemocap_transcript(root, labels, video=visual is not None), folder, root, config,
                      LABEL_NAMES[labels], progress=progress)
        super().__init__(folder, split, transform=transform, pre_transform=pre_transform, pre_filter=pre_filter,
                         force_reload=force_reload, cache_dir=cache_dir)
