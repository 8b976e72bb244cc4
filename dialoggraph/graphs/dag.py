"""DAG-ERC's directed acyclic dialogue graph (Shen et al., ACL 2021)."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.graphs.ranges import check_batch, check_speaker, dialogue_bounds, edges_from_ranges


def dag_edges(speaker: Tensor, batch: Tensor | None = None, same_speaker_window: int = 1
              ) -> tuple[Tensor, Tensor]:
    r"""DAG-ERC's edges: each utterance receives from its recent predecessors.

    For target ``i`` the sources are ``j = i-1, i-2, ...`` back to and
    including the ``same_speaker_window``-th earlier utterance of ``i``'s own
    speaker, or back to the dialogue start when there are fewer. No self loops;
    the first utterance of a dialogue has no predecessors.

    Vectorised: nodes are sorted by (dialogue, speaker) with a stable sort, so
    the ``w``-th earlier utterance of the same speaker is ``w`` places back in
    the sorted order. O(N log N + E).

    Args:
        speaker: ``[N]`` long speaker ids.
        batch: ``[N]`` dialogue of each utterance, or ``None`` for one dialogue.
        same_speaker_window: ``w >= 1`` (DAG-ERC's ``windowp``; the paper uses 1).

    Returns:
        ``(edge_index [2, E], same_speaker [E] bool)``, sorted by target then source.
    """
    if not isinstance(same_speaker_window, int) or same_speaker_window < 1:
        raise ValueError(f"same_speaker_window must be an integer >= 1, got {same_speaker_window!r}")
    check_speaker(speaker)
    n = speaker.numel()
    batch = check_batch(batch, n, speaker.device)
    start, _ = dialogue_bounds(batch)
    if n == 0:
        return torch.empty(2, 0, dtype=torch.long, device=speaker.device), \
            torch.empty(0, dtype=torch.bool, device=speaker.device)
    key = batch * (int(speaker.max()) + 1) + speaker
    order = torch.sort(key, stable=True).indices
    sorted_key = key[order]
    w = same_speaker_window
    lo = start.clone()
    if n > w:
        has_previous = sorted_key[w:] == sorted_key[:-w]
        lo[order[w:][has_previous]] = order[:-w][has_previous]
    pos = torch.arange(n, device=speaker.device)
    edge_index = edges_from_ranges(lo, pos - lo)
    same_speaker = speaker[edge_index[0]] == speaker[edge_index[1]]
    return edge_index, same_speaker
