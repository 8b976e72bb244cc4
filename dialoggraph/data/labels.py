"""Label spellings: one emotion written two ways must not silently become two classes."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from dialoggraph.data.errors import DialogueValidationError


def label_form(name: str) -> str:
    """The form two spellings of one label share: lower case, inner whitespace collapsed.

    Example:
        >>> label_form(" Very  Happy ")
        'very happy'
    """
    return " ".join(name.lower().split())


def check_label_spellings(labels: Iterable[str], source: str, accepted: Iterable[str] = (),
                          how_to_accept: str = "") -> None:
    """Refuse labels that differ only by case or spaces (``joy`` / ``Joy``), naming each spelling and
    how often it occurs, unless every spelling of the group is in ``accepted`` (label names the user
    listed on purpose).

    Args:
        labels: the label of every labelled utterance (unlabelled ones left out).
        source: the file the labels come from, for the message.
        accepted: label names given explicitly; a group all of whose spellings are listed passes.
        how_to_accept: the end of the message: how to keep the spellings as separate classes.

    Example:
        >>> check_label_spellings(["joy", "joy", "Joy", "sad"], "train.csv")
        Traceback (most recent call last):
          ...
        dialoggraph.data.errors.DialogueValidationError: train.csv: labels 'Joy' (1) and 'joy' (2) differ only by case or spaces
        >>> check_label_spellings(["joy", "Joy"], "train.csv", accepted=["joy", "Joy"])
    """
    counts = Counter(labels)
    groups: dict[str, list[str]] = {}
    for name in sorted(counts):
        groups.setdefault(label_form(name), []).append(name)
    accepted = set(accepted)
    for spellings in groups.values():
        if len(spellings) > 1 and not set(spellings) <= accepted:
            listed = " and ".join(f"{s!r} ({counts[s]})" for s in spellings)
            raise DialogueValidationError(f"{source}: labels {listed} differ only by case or spaces"
                                          + (f"; {how_to_accept}" if how_to_accept else ""))
