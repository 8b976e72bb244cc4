"""One DAG-ERC layer, all dialogues of a batch advancing together.

Reference: Weizhou Shen, Siyue Wu, Yunyan Yang, Xiaojun Quan, "Directed Acyclic Graph Network for
Conversational Emotion Recognition", Proceedings of ACL-IJCNLP 2021, DOI 10.18653/v1/2021.acl-long.123.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class DAGSchedule:
    """How a batch's DAG is walked level by level; build once, reuse in every layer.

    Nodes are visited level-major: level ``p`` holds the ``p``-th utterance of
    every dialogue longer than ``p``, dialogues ordered longest first, so the
    rows of level ``p`` are a prefix of the rows of level ``p - 1``.

    Example:
        >>> import torch
        >>> from dialoggraph.graphs import dag_edges
        >>> speaker, batch = torch.tensor([0, 1, 0, 1, 1]), torch.zeros(5, dtype=torch.long)
        >>> edge_index, same_speaker = dag_edges(speaker, batch, 1)
        >>> schedule = DAGSchedule.build(edge_index, same_speaker, batch, 5)   # once per batch, shared by layers
    """

    level_sizes: list[int]     # B_p: dialogues with more than p utterances
    window_sizes: list[int]    # K_p: how far back the predecessors of level p reach
    level_index: Tensor        # [N] position of each node in level-major order
    edge_slot: Tensor          # [E] slot of each edge in the packed [B_p, K_p] windows
    window_mask: Tensor        # [sum B_p K_p] bool: slot holds an edge
    window_same: Tensor        # [sum B_p K_p] bool: that edge joins one speaker's turns

    @staticmethod
    def build(edge_index: Tensor, same_speaker: Tensor, batch: Tensor | None, num_nodes: int) -> "DAGSchedule":
        device = edge_index.device
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
        counts = torch.bincount(batch)
        start = counts.cumsum(0) - counts
        pos = torch.arange(num_nodes, device=device) - start[batch]
        rank = torch.empty_like(counts)
        rank[torch.sort(counts, descending=True, stable=True).indices] = torch.arange(counts.numel(), device=device)
        max_len = int(counts.max()) if num_nodes else 0
        level_sizes_t = (counts.unsqueeze(0) > torch.arange(max_len, device=device).unsqueeze(1)).sum(1)
        level_offset = level_sizes_t.cumsum(0) - level_sizes_t
        level_index = level_offset[pos] + rank[batch]

        src, dst = edge_index
        back = pos[dst] - pos[src]
        if bool((batch[src] != batch[dst]).any()) or bool((back < 1).any()):
            raise ValueError("DAGConv needs edges from an earlier to a later utterance of the same "
                             "dialogue (dag_edges / DAGGraph build them)")
        level = pos[dst]
        window = torch.zeros(max_len, dtype=torch.long, device=device).scatter_reduce(
            0, level, back, reduce="amax")
        slots = level_sizes_t * window
        base = slots.cumsum(0) - slots
        edge_slot = base[level] + rank[batch[dst]] * window[level] + back - 1
        total = int(slots.sum())
        window_mask = torch.zeros(total, dtype=torch.bool, device=device)
        window_mask[edge_slot] = True
        window_same = torch.zeros(total, dtype=torch.bool, device=device)
        window_same[edge_slot] = same_speaker.bool()
        return DAGSchedule(level_sizes_t.tolist(), window.tolist(), level_index, edge_slot,
                           window_mask, window_same)


class DAGConv(torch.nn.Module):
    r"""One layer of DAG-ERC's directed acyclic graph network (Shen et al., ACL 2021, eqs. 4-8).

    Utterances are updated in topological order. Utterance :math:`i` attends
    over its predecessors :math:`\mathcal{N}(i)` (the ``dag`` edges) with its
    previous-layer state as query and their *current-layer* states as keys,
    aggregates them through a relation-specific map (same / different speaker),
    and two GRU cells merge the result with its previous-layer state:

    .. math::
        \alpha_{ij} &= \operatorname{softmax}_{j \in \mathcal{N}(i)}
            \mathbf{W}_\alpha [\mathbf{H}^{l}_j \,\Vert\, \mathbf{H}^{l-1}_i] \\
        \mathbf{M}_i &= \sum_{j \in \mathcal{N}(i)} \alpha_{ij}\, \mathbf{W}_{r_{ij}} \mathbf{H}^{l}_j,
            \qquad r_{ij} \in \{\text{same speaker}, \text{other speaker}\} \\
        \mathbf{H}^{l}_i &= \mathrm{GRU}_{node}(\mathbf{H}^{l-1}_i, \mathbf{M}_i)
            + \mathrm{GRU}_{ctx}(\mathbf{M}_i, \mathbf{H}^{l-1}_i)

    where :math:`\mathrm{GRU}(\text{input}, \text{hidden})`; a node without
    predecessors gets :math:`\mathbf{M}_i = 0`.

    All dialogues of a batch advance together, one step per topological level
    (utterance position): a loop over positions, never over dialogues or
    utterances. Each node's relation maps and key score are computed once, when
    its state is produced; a level's predecessors are read as a
    ``[B_p, K_p]`` window of earlier levels (``K_p``: the longest reach back at
    that level), so cost is O(levels + nodes + window slots), with no
    ``L x L`` tensor.

    Args:
        channels: state size (input and output).

    Shapes:
        - **input:** node features :math:`(N, C)`, ``dag`` edges :math:`(2, E)`,
          ``same_speaker`` :math:`(E)`, ``batch`` :math:`(N)` (optional)
        - **output:** :math:`(N, C)`; with ``return_attention_weights`` also
          ``(edge_index, alpha)``, ``alpha`` of shape :math:`(E)`.

    Example:
        >>> import torch
        >>> from dialoggraph.graphs import dag_edges
        >>> speaker, batch = torch.tensor([0, 1, 0, 1, 1]), torch.zeros(5, dtype=torch.long)
        >>> edge_index, same_speaker = dag_edges(speaker, batch, 1)
        >>> conv = DAGConv(16)
        >>> h, (edges, alpha) = conv(torch.randn(5, 16), edge_index, same_speaker, batch,
        ...                          return_attention_weights=True)
        >>> h.shape, alpha.shape == edges[0].shape
        (torch.Size([5, 16]), True)
    """

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        self.attention = torch.nn.Linear(2 * channels, 1)        # W_alpha on [H^l_j ; H^{l-1}_i]
        self.relation_same = torch.nn.Linear(channels, channels, bias=False)
        self.relation_other = torch.nn.Linear(channels, channels, bias=False)
        self.gru_node = torch.nn.GRUCell(channels, channels)
        self.gru_context = torch.nn.GRUCell(channels, channels)

    def reset_parameters(self) -> None:
        for module in (self.attention, self.relation_same, self.relation_other, self.gru_node, self.gru_context):
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, same_speaker: Tensor, batch: Tensor | None = None,
                schedule: DAGSchedule | None = None, return_attention_weights: bool | None = None):
        C = self.channels
        if schedule is None:
            schedule = DAGSchedule.build(edge_index, same_speaker, batch, x.size(0))
        h_prev = x.new_empty(x.shape).index_copy_(0, schedule.level_index, x)  # level-major
        w_key, w_query = self.attention.weight[0, :C], self.attention.weight[0, C:]
        query = h_prev @ w_query + self.attention.bias                        # [N]
        # Per produced state: [W_same h ; W_other h ; w_key . h], computed once.
        produce = torch.cat([self.relation_same.weight.t(), self.relation_other.weight.t(),
                             w_key.unsqueeze(1)], dim=1)                      # [C, 2C + 1]
        states: list[Tensor] = []
        produced: list[Tensor] = []
        alphas: list[Tensor] = []
        start = slot = 0
        for p, (rows, reach) in enumerate(zip(schedule.level_sizes, schedule.window_sizes)):
            h_p = h_prev[start:start + rows]
            if reach == 0:
                message = h_p.new_zeros(rows, C)
            else:
                window = torch.stack([produced[p - k][:rows] for k in range(1, reach + 1)], dim=1)
                mask = schedule.window_mask[slot:slot + rows * reach].view(rows, reach)
                same = schedule.window_same[slot:slot + rows * reach].view(rows, reach, 1)
                score = (window[..., 2 * C] + query[start:start + rows, None])
                score = score.masked_fill(~mask, torch.finfo(score.dtype).min)
                alpha = torch.softmax(score, dim=1).masked_fill(~mask, 0.0)   # no predecessor: M = 0
                value = torch.where(same, window[..., :C], window[..., C:2 * C])
                message = torch.bmm(alpha.unsqueeze(1), value).squeeze(1)
                alphas.append(alpha.reshape(-1))
                slot += rows * reach
            h = self.gru_node(h_p, message) + self.gru_context(message, h_p)
            states.append(h)
            produced.append(h @ produce)
            start += rows
        out = torch.cat(states)[schedule.level_index] if states else x.new_empty(0, C)
        if return_attention_weights:
            packed = torch.cat(alphas) if alphas else x.new_empty(0)
            return out, (edge_index, packed[schedule.edge_slot])
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
