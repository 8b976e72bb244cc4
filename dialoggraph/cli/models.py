"""``dialoggraph models``: the registered models and their paper presets."""
from __future__ import annotations

import argparse
from typing import Sequence

from dialoggraph.cli.parser import COMMANDS
from dialoggraph.models import MODELS


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("models", help=COMMANDS["models"])
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    for name in sorted(MODELS):
        cls = MODELS[name]
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name:12} {cls.__name__:14} {doc}")
        for preset, setting in cls.presets.items():
            print(f"{'':12} --preset {preset}: {setting.description}")
