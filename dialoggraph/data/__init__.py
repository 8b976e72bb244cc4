"""The dialogue schema, its validation and flat <-> padded helpers."""
from dialoggraph.data.dialogue import DAG, INTER, INTRA, NODE, UNLABELED, make_dialogue, validate_dialogue
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.data.padding import dialogue_positions, from_padded, to_padded

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
