"""The command line's light part: the commands' names and summaries and the parser class, which
``dialoggraph --version`` and ``dialoggraph --help`` need without importing torch or PyG."""
from __future__ import annotations

import argparse
import sys

import dialoggraph

#: Each command, in the order ``--help`` lists them, and its one-line summary.
COMMANDS = {
    "featurize": "transcripts + audio/video -> features in the folder format",
    "train": "train a model (several seeds: mean +- std)",
    "tune": "search hyper-parameters on the dev split (Optuna)",
    "evaluate": "metrics of a checkpoint on a split, or a whole report with figures",
    "compare": "runs side by side: mean +- std over seeds, paired bootstrap test, chart",
    "explain": "a dialogue's graph with the learned attention weights (or gates), gold and predicted labels",
    "predict": "per-utterance predictions to a CSV (a data split, or raw transcripts)",
    "models": "list the registered models and their presets",
    "inspect": "build and print the dialogue graphs of a dataset",
    "reproduce": "run a paper's setting over its feature files (5 seeds) and compare",
}


class DefaultsFormatter(argparse.HelpFormatter):
    """Help that ends with the option's default where the text does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if action.option_strings and default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
            text = f"{text} (default: {str(shown).replace('%', '%%')})"
        return text


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit code 2, and whose help gives each
    option's default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def top_parser() -> tuple[Parser, argparse._SubParsersAction]:
    """The ``dialoggraph`` parser without its commands' options, and its sub-parser group."""
    parser = Parser(prog="dialoggraph", description="dialoggraph: graph neural networks for multimodal emotion "
                                                    "recognition in conversation. Featurize, train, evaluate, "
                                                    "predict, inspect graphs and reproduce the papers' settings.")
    parser.add_argument("--version", action="version", version=f"dialoggraph {dialoggraph.__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of user errors too")
    return parser, parser.add_subparsers(dest="command", required=True, parser_class=Parser)
