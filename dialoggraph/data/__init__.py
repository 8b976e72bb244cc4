"""The dialogue schema, its validation and flat <-> padded helpers.

The names are imported on first use, so that :class:`DialogueValidationError` alone (what the
featurizers need, e.g. in a Ray actor) does not import PyTorch Geometric.
"""
from dialoggraph.data.errors import DialogueValidationError

_LAZY = {**{name: "dialoggraph.data.dialogue" for name in
            ("DAG", "INTER", "INTRA", "NODE", "UNLABELED", "make_dialogue", "validate_dialogue")},
         **{name: "dialoggraph.data.padding" for name in ("dialogue_positions", "from_padded", "to_padded")}}

__all__ = [
    "NODE",
    "INTRA",
    "INTER",
    "DAG",
    "UNLABELED",
    "DialogueValidationError",
    "make_dialogue",
    "validate_dialogue",
    "to_padded",
    "from_padded",
    "dialogue_positions",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dialoggraph.data' has no attribute {name!r}")
