"""``dialoggraph models``: the registered models and their paper presets."""
from __future__ import annotations

import argparse
import re
from typing import Sequence

from dialoggraph.cli.parser import COMMANDS
from dialoggraph.models import MODELS


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("models", help=COMMANDS["models"])
    p.set_defaults(run=run)


def first_sentence(doc: str) -> str:
    r"""The first sentence of a docstring's first paragraph, whole even when it wraps.

    Example:
        >>> first_sentence("MFCRE on any non-empty subset of text / audio / visual,\n    with SWFC. More.")
        'MFCRE on any non-empty subset of text / audio / visual, with SWFC.'
    """
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    found = re.match(r"(.*?[.!?])(?=\s+[A-Z(]|$)", paragraph)
    return found.group(1) if found else paragraph


def run(args: argparse.Namespace) -> None:
    for name in sorted(MODELS):
        cls = MODELS[name]
        print(f"{name:12} {cls.__name__:14} {first_sentence(cls.__doc__ or '')}")
        for preset, setting in cls.presets.items():
            print(f"{'':12} --preset {preset}: {setting.description}")
