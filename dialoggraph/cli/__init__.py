"""The ``dialoggraph`` command line (also ``python -m dialoggraph`` and, for DDP,
``torchrun --nproc_per_node=N -m dialoggraph train ...``).

Commands: ``featurize``, ``train``, ``tune``, ``evaluate``, ``compare``, ``explain``, ``predict``, ``models``, ``inspect``, ``reproduce``. A
user error (bad option, config value, input file or checkpoint) is one line on stderr
and exit code 2; an internal error keeps its traceback (``--debug`` shows the traceback
of a user error too).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from dialoggraph.cli.parser import COMMANDS, top_parser


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; ``argv`` is read first for what decides the options (``--model``, ``--config``)."""
    parser, sub = top_parser()
    for name in COMMANDS:
        importlib.import_module(f"dialoggraph.cli.{name}").add_parser(sub, argv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(word in COMMANDS for word in argv):
        # No command (--version, --help, or one missing): answered without importing torch or PyG.
        parser, sub = top_parser()
        for name, summary in COMMANDS.items():
            sub.add_parser(name, help=summary)
        parser.parse_args(argv)
    from dialoggraph.cli.errors import USER_ERRORS
    from dialoggraph.train import distributed
    debug = "--debug" in argv
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        args.run(args)
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"dialoggraph: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dialoggraph: interrupted", file=sys.stderr)
        return 130
    finally:
        distributed.cleanup()
    return 0
