"""Windowed context edges: complete / MMGCN-style graphs and AMB-DSGDN's speaker-window graph."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.graphs.ranges import check_batch, check_speaker, dialogue_bounds, edges_from_ranges
from dialoggraph.graphs.relation import Relation


def _check_window(name: str, value: int | None) -> None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a non-negative integer or None, got {value!r}")


def full_context_edges(batch: Tensor, past: int | None = None, future: int | None = None,
                       self_loops: bool = True) -> Tensor:
    r"""Edges ``j -> i`` between all utterances of the same dialogue within a window.

    Source ``j`` is at most ``past`` positions before target ``i`` and at most
    ``future`` after it (``None``: unbounded, the complete graph of MMGCN-style
    models). Self loops are included unless ``self_loops=False``.

    Args:
        batch: ``[N]`` dialogue of each utterance (sorted, as in PyG batches).
        past, future: window sizes, or ``None`` for the whole dialogue.
        self_loops: keep the ``i -> i`` edges.

    Returns:
        ``edge_index`` ``[2, E]``, sorted by target then source.
    """
    _check_window("past", past)
    _check_window("future", future)
    edge_index = _window(check_batch(batch, batch.numel(), batch.device), past, future)
    if not self_loops:
        edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    return edge_index


def _window(batch: Tensor, past: int | None, future: int | None) -> Tensor:
    """:func:`full_context_edges` on a batch vector already checked (or made here)."""
    start, end = dialogue_bounds(batch)
    pos = torch.arange(batch.numel(), device=batch.device)
    lo = start if past is None else torch.maximum(start, pos - past)
    hi = end - 1 if future is None else torch.minimum(end - 1, pos + future)
    return edges_from_ranges(lo, hi - lo + 1)


def speaker_window_edges(speaker: Tensor, batch: Tensor | None = None, past: int = 5,
                         future: int = 5) -> tuple[Tensor, Tensor]:
    r"""AMB-DSGDN's relation graph (paper eqs. 7-8) over a batch of dialogues.

    Every edge ``j -> i`` with ``i, j`` in the same dialogue, ``i - past <= j <=
    i + future``; one ``SELF`` loop per node. Its relation is

    .. math::
        r_{ji} = \begin{cases}
        \text{SELF} & j = i \\
        \text{INTRA\_PAST} / \text{INTRA\_FUTURE} & s_j = s_i,\ j < i \ /\ j > i \\
        \text{INTER\_PAST} / \text{INTER\_FUTURE} & s_j \ne s_i,\ j < i \ /\ j > i
        \end{cases}

    Args:
        speaker: ``[N]`` long, speaker of each utterance (any non-negative ids).
        batch: ``[N]`` dialogue of each utterance, or ``None`` for one dialogue.
        past, future: window sizes ``w`` (the paper uses 5 both ways).

    Returns:
        ``(edge_index [2, E], edge_rel [E])``, sorted by target then source.
        ``E <= N * (past + future + 1)``; built in O(N + E).
    """
    _check_window("past", past)
    _check_window("future", future)
    check_speaker(speaker)
    batch = check_batch(batch, speaker.numel(), speaker.device)
    edge_index = _window(batch, past, future)
    src, dst = edge_index
    other_speaker = speaker[src] != speaker[dst]
    edge_rel = (1 + (src > dst).long() + 2 * other_speaker.long()) * (src != dst).long()
    return edge_index, edge_rel


def split_speaker_subgraphs(edge_index: Tensor, edge_rel: Tensor
                            ) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, Tensor]]:
    """Split the relation graph into AMB-DSGDN's two subgraphs.

    Returns ``((intra_index, intra_rel), (inter_index, inter_rel))``: the
    intra-speaker subgraph ``Adj_s`` (``SELF``, ``INTRA_*``) and the
    inter-speaker subgraph ``Adj_c`` (``SELF``, ``INTER_*``). Both keep the self
    loops, as in eqs. 7-8.
    """
    is_self = edge_rel == Relation.SELF
    intra = is_self | (edge_rel == Relation.INTRA_PAST) | (edge_rel == Relation.INTRA_FUTURE)
    inter = is_self | (edge_rel == Relation.INTER_PAST) | (edge_rel == Relation.INTER_FUTURE)
    return (edge_index[:, intra], edge_rel[intra]), (edge_index[:, inter], edge_rel[inter])
