"""Relation ids of the speaker-window graph (AMB-DSGDN, eqs. 7-8)."""
from enum import IntEnum


class Relation(IntEnum):
    """Edge relation from source ``j`` to target ``i``.

    "Past" means the source utterance is earlier than the target. The paper's
    eqs. 7-8 number the same five relations differently (self-loop 1,
    intra-past 2, intra-future 3, inter-future 4, inter-past 5); dialoggraph
    fixes this order everywhere.
    """

    SELF = 0
    INTRA_PAST = 1
    INTRA_FUTURE = 2
    INTER_PAST = 3
    INTER_FUTURE = 4
