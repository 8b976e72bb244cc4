"""The ``dialoggraph`` command line (also ``python -m dialoggraph`` and, for DDP,
``torchrun --nproc_per_node=N -m dialoggraph train ...``).

Commands: ``featurize``, ``train``, ``tune``, ``evaluate``, ``compare``, ``explain``, ``predict``, ``models``, ``inspect``, ``reproduce``. A
user error (bad option, config value, input file or checkpoint) is one line on stderr
and exit code 2; an internal error keeps its traceback (``--debug`` shows the traceback
of a user error too).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import dialoggraph
from dialoggraph.cli import compare, evaluate, explain, featurize, inspect, models, predict, reproduce, train, tune
from dialoggraph.cli.errors import USER_ERRORS, Parser
from dialoggraph.train import distributed

COMMANDS = (featurize, train, tune, evaluate, compare, explain, predict, models, inspect, reproduce)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; ``argv`` is read first for what decides the options (``--model``, ``--config``)."""
    parser = Parser(prog="dialoggraph", description="dialoggraph: graph neural networks for multimodal emotion "
                                                    "recognition in conversation. Featurize, train, evaluate, "
                                                    "predict, inspect graphs and reproduce the papers' settings.")
    parser.add_argument("--version", action="version", version=f"dialoggraph {dialoggraph.__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of user errors too")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub, argv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
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
