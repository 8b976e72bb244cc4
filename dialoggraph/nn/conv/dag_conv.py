"""One DAG-ERC layer, all dialogues of a batch advancing together.

Reference: Weizhou Shen, Siyue Wu, Yunyan Yang, Xiaojun Quan, "Directed Acyclic Graph Network for
Conversational Emotion Recognition", Proceedings of ACL-IJCNLP 2021, DOI 10.18653/v1/2021.acl-long.123.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dialoggraph.data.padding import dialogue_positions


@dataclass
class DAGSchedule:
    """How a batch's DAG is walked level by level; build once, reuse in every layer.

    Nodes are visited level-major: level ``p`` holds the ``p``-th utterance of
    every dialogue longer than ``p``, dialogues ordered longest first, so the
    rows of level ``p`` are a prefix of the rows of level ``p - 1``. Level ``p``
    reads its predecessors through a ``[B_p, K_p]`` window: slot ``(i, k)`` is the
    state ``k`` levels back in row ``i``'s dialogue, whether or not an edge joins them.

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
    window_key: Tensor         # [sum B_p K_p] level-major row of the state each slot reads
    window_value: Tensor       # [sum B_p K_p] 2 * that row, + 1 if the slot's edge joins two speakers
    window_blocked: Tensor     # [sum B_p K_p] bool: no edge in the slot

    @staticmethod
    def build(edge_index: Tensor, same_speaker: Tensor, batch: Tensor | None, num_nodes: int) -> "DAGSchedule":
        device = edge_index.device
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
        pos, counts = dialogue_positions(batch)
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
        # Slot s of level p: row i = (s - base_p) // K_p, reaching back k = (s - base_p) % K_p + 1.
        # Level p - k holds at least the rows of level p, so row i of it exists.
        slot_level = torch.repeat_interleave(torch.arange(max_len, device=device), slots)
        local = torch.arange(total, device=device) - base[slot_level]
        reach = window[slot_level]
        window_key = level_offset[slot_level - local % reach - 1] + local // reach
        window_blocked = torch.ones(total, dtype=torch.bool, device=device)
        window_blocked[edge_slot] = False
        other = torch.zeros(total, dtype=torch.long, device=device)
        other[edge_slot] = (~same_speaker.bool()).long()
        return DAGSchedule(level_sizes_t.tolist(), window.tolist(), level_index, edge_slot,
                           window_key, 2 * window_key + other, window_blocked)


class DAGWalk(torch.autograd.Function):
    r"""A layer's walk over a batch's topological levels, with its backward written out.

    The walk makes level by level, from the inputs that read :math:`\mathbf{H}^{l-1}`
    (computed once for all nodes), each node's message and state (see :class:`DAGConv`).
    Autograd would record some twenty small operations per level and run each one's backward
    as its own node; here the forward runs without recording and writes what the backward
    needs into whole-batch buffers, and the backward walks the levels in reverse with about
    a dozen operations each.

    The backward. Let :math:`\mathbf{G}_i = \partial\mathcal{L}/\partial\mathbf{H}^l_i`.
    Each GRU cell :math:`\mathbf{h}' = \mathbf{n} + \mathbf{z} \odot (\mathbf{h} - \mathbf{n})`,
    :math:`\mathbf{n} = \tanh(\mathbf{g}^{i}_{n} + \mathbf{r} \odot \mathbf{g}^{h}_{n})`,
    :math:`\mathbf{r}, \mathbf{z}` sigmoids of their gate sums, is linear in :math:`\mathbf{G}`
    given the forward's values:

    .. math::
        \partial\mathbf{g}_{n}^{i} = \mathbf{G} \odot (1 - \mathbf{z}) \odot (1 - \mathbf{n}^2), \quad
        \partial\mathbf{g}_{n}^{h} = \partial\mathbf{g}_{n}^{i} \odot \mathbf{r}, \quad
        \partial\mathbf{g}_{r} = \partial\mathbf{g}_{n}^{i} \odot \mathbf{g}^{h}_{n} \odot
            \mathbf{r} \odot (1 - \mathbf{r}), \quad
        \partial\mathbf{g}_{z} = \mathbf{G} \odot (\mathbf{h} - \mathbf{n}) \odot \mathbf{z}
            \odot (1 - \mathbf{z}), \quad
        \partial\mathbf{h} = \mathbf{G} \odot \mathbf{z}

    so those factors are computed once for all nodes. The recurrence is only through the
    messages: going back over the levels, :math:`\mathbf{G}` of a level's states is complete
    once the later levels have added what their windows read, and

    .. math::
        \partial\mathbf{M}_i = \partial\mathbf{g}^{M}_i \mathbf{W}^{M} + \mathbf{G}_i \odot \mathbf{z}^{node}_i, \quad
        \partial\alpha_{ij} = \mathbf{V}_{ij} \cdot \partial\mathbf{M}_i, \quad
        \partial s_{ij} = \alpha_{ij} \big(\partial\alpha_{ij} - \textstyle\sum_k \alpha_{ik} \partial\alpha_{ik}\big), \quad
        \partial\mathbf{V}_{ij} = \alpha_{ij} \partial\mathbf{M}_i

    where :math:`\mathbf{g}^{M}` are the gates that read the messages, :math:`\mathbf{V}_{ij}`
    the relation map of :math:`\mathbf{H}^l_j` and :math:`s_{ij}` the attention score; the
    scores' and maps' gradients go to the window's earlier states,
    :math:`\mathbf{G}_j \mathrel{+}= \partial\mathbf{V} \mathbf{W}_{r} + \partial k_j \mathbf{w}_{key}`.
    Every weight's gradient is one matmul over all nodes after the walk.

    Gate layouts: ``before`` and the message gates hold, in ``C``-wide blocks, the reset,
    update and new gates of the node cell and of the context cell in turn,
    ``[r_node, r_ctx, z_node, z_ctx, n_node, n_ctx]``; ``before`` has the query score last.

    The query score :math:`\mathbf{w}_{query} \cdot \mathbf{H}^{l-1}_i + b_\alpha` is the same
    for every predecessor :math:`j` of :math:`i`, so the softmax cancels it: the walk does not
    add it, and its gradient is zero (as in the paper's model, where autograd finds it to
    rounding). It stays an input, so that :math:`\mathbf{W}_\alpha`'s query half and bias
    take part in the graph as every parameter must under ``DistributedDataParallel``.

    Args (of ``apply``):
        schedule: the batch's :class:`DAGSchedule`.
        h_prev: :math:`\mathbf{H}^{l-1}`, level-major.
        before: the gates that read :math:`\mathbf{H}^{l-1}` (the node cell's input gates, the
            context cell's hidden gates, biases included) and the query score (see above).
        w_message, b_message: the map to the gates that read :math:`\mathbf{M}` (the node cell's
            hidden gates, the context cell's input gates).
        w_value: :math:`[\mathbf{W}_{same}; \mathbf{W}_{other}]`.
        w_key: the attention's key half.

    ``w_message`` and ``w_value`` come in-major (``x @ W``), the fast layout for a level's few
    rows on CPU (docs/speed.md); the backward's few-row matmuls read the other way,
    :math:`\partial\mathbf{y} \mathbf{W}^\top`, from an ``[out, in]`` copy it makes.

    Shapes:
        - **input:** ``h_prev`` :math:`(N, C)`, ``before`` :math:`(N, 6C + 1)`, ``w_message``
          :math:`(C, 6C)`, ``b_message`` :math:`(6C)`, ``w_value`` :math:`(C, 2C)`, ``w_key`` :math:`(C)`
        - **output:** :math:`\mathbf{H}^{l}` :math:`(N, C)`, level-major; the attention weights
          :math:`(\sum_p B_p K_p)` in window slots (no gradient).

    Example:
        >>> import torch
        >>> from dialoggraph.graphs import dag_edges
        >>> speaker, batch = torch.tensor([0, 1, 0]), torch.zeros(3, dtype=torch.long)
        >>> edge_index, same_speaker = dag_edges(speaker, batch, 1)
        >>> schedule = DAGSchedule.build(edge_index, same_speaker, batch, 3)
        >>> C = 4
        >>> states, alpha = DAGWalk.apply(schedule, torch.randn(3, C), torch.randn(3, 6 * C + 1),
        ...                               torch.randn(C, 6 * C), torch.randn(6 * C),
        ...                               torch.randn(C, 2 * C), torch.randn(C))
        >>> states.shape, schedule.window_sizes, alpha.shape      # windows of 0, 1 and 2 slots
        (torch.Size([3, 4]), [0, 1, 2], torch.Size([3]))
    """

    @staticmethod
    def forward(ctx, schedule: DAGSchedule, h_prev: Tensor, before: Tensor, w_message: Tensor,
                b_message: Tensor, w_value: Tensor, w_key: Tensor):
        N, C = h_prev.shape
        new = h_prev.new_empty
        states, keys, values = new(N, C), new(N), new(2 * N, C)   # values: row 2j W_same H_j, 2j+1 W_other H_j
        messages = h_prev.new_zeros(N, C)        # the node cell's hidden state; the context cell's is H^{l-1}
        from_messages, gates, new_node, new_ctx = new(N, 6 * C), new(N, 4 * C), new(N, C), new(N, C)
        alphas: list[Tensor] = []
        windows: list[Tensor] = []
        levels: list[tuple[int, int, int, int]] = []      # (first row, rows, reach, first slot)
        start = slot = 0
        for rows, reach in zip(schedule.level_sizes, schedule.window_sizes):
            levels.append((start, rows, reach, slot))
            end = start + rows
            before_p, message, read = before[start:end], messages[start:end], from_messages[start:end]
            if reach:
                window = slice(slot, slot + rows * reach)
                slot += rows * reach
                blocked = schedule.window_blocked[window].view(rows, reach)
                score = keys.index_select(0, schedule.window_key[window]).view(rows, reach)
                score.masked_fill_(blocked, torch.finfo(score.dtype).min)
                alpha = torch.softmax(score, dim=1).masked_fill_(blocked, 0.0)     # no predecessor: M = 0
                value = values.index_select(0, schedule.window_value[window]).view(rows, reach, C)
                torch.bmm(alpha.unsqueeze(1), value, out=message.unsqueeze(1))
                torch.addmm(b_message, message, w_message, out=read)
                alphas.append(alpha)
                windows.append(value)
            else:
                read.copy_(b_message.expand(rows, 6 * C))
            rz = torch.add(before_p[:, :4 * C], read[:, :4 * C], out=gates[start:end]).sigmoid_()
            # n-gates: the node cell's input term reads H^{l-1} and its hidden term M; the context
            # cell's the other way round.
            n_node = torch.addcmul(before_p[:, 4 * C:5 * C], rz[:, :C], read[:, 4 * C:5 * C],
                                   out=new_node[start:end]).tanh_()
            n_ctx = torch.addcmul(read[:, 5 * C:], rz[:, C:2 * C], before_p[:, 5 * C:6 * C],
                                  out=new_ctx[start:end]).tanh_()
            node = torch.lerp(n_node, message, rz[:, 2 * C:3 * C])               # n + z (h - n)
            state = torch.add(node, torch.lerp(n_ctx, h_prev[start:end], rz[:, 3 * C:]), out=states[start:end])
            torch.mm(state, w_value, out=values[2 * start:2 * end].view(rows, 2 * C))
            torch.mv(state, w_key, out=keys[start:end])
            start = end
        ctx.schedule, ctx.levels = schedule, levels
        ctx.save_for_backward(h_prev, before, w_message, w_value, w_key, states, messages, from_messages, gates,
                              new_node, new_ctx, *alphas, *windows)
        packed = torch.cat([a.reshape(-1) for a in alphas]) if alphas else h_prev.new_empty(0)
        ctx.mark_non_differentiable(packed)
        return states, packed

    @staticmethod
    def backward(ctx, grad_states: Tensor, _):
        schedule = ctx.schedule
        (h_prev, before, w_message, w_value, w_key, states, messages, from_messages, gates, new_node, new_ctx,
         *rest) = ctx.saved_tensors
        tanhs = torch.cat([new_node, new_ctx], dim=1)
        alphas, windows = rest[:len(rest) // 2], rest[len(rest) // 2:]
        N, C = states.shape
        w_message_out, w_value_out = w_message.t().contiguous(), w_value.t().contiguous()   # [out, in]
        r, z = gates[:, :2 * C], gates[:, 2 * C:]
        gated = torch.cat([from_messages[:, 4 * C:5 * C], before[:, 5 * C:6 * C]], dim=1)   # what r multiplies
        d_new = (1 - z) * (1 - tanhs * tanhs)               # d h' / d g_n^i
        d_reset = d_new * gated * r * (1 - r)               # d h' / d g_r
        d_update = (torch.cat([messages, h_prev], dim=1) - tanhs) * z * (1 - z)   # d h' / d g_z
        d_gated = d_new * r                                 # d h' / d g_n^h
        to_message = torch.cat([d_reset, d_update, d_gated[:, :C], d_new[:, C:]], dim=1).view(N, 6, C)
        to_before = torch.cat([d_reset, d_update, d_new[:, :C], d_gated[:, C:]], dim=1).view(N, 6, C)
        z_node = z[:, :C]
        grad = torch.empty_like(states)                     # G, complete level by level
        grad_values, grad_keys = states.new_zeros(2 * N, C), states.new_zeros(N)
        grad_gates = states.new_empty(N, 6 * C)
        walked = len(alphas)
        for start, rows, reach, slot in reversed(ctx.levels):
            end = start + rows
            g = torch.addmm(grad_states[start:end], grad_values[2 * start:2 * end].view(rows, 2 * C), w_value_out,
                            out=grad[start:end])
            g.addr_(grad_keys[start:end], w_key)
            d_gates = torch.mul(g.unsqueeze(1), to_message[start:end], out=grad_gates[start:end].view(rows, 6, C))
            if not reach:
                continue
            walked -= 1
            alpha, value = alphas[walked], windows[walked]
            window = slice(slot, slot + rows * reach)
            d_message = torch.addmm(g * z_node[start:end], d_gates.view(rows, 6 * C), w_message_out)
            d_alpha = torch.bmm(value, d_message.unsqueeze(2)).squeeze(2)
            d_score = alpha * (d_alpha - (alpha * d_alpha).sum(1, keepdim=True))   # the softmax's backward
            grad_values.index_add_(0, schedule.window_value[window],
                                   (alpha.unsqueeze(2) * d_message.unsqueeze(1)).view(-1, C))
            grad_keys.index_add_(0, schedule.window_key[window], d_score.view(-1))
        # The query score's gradient is zero: it is constant over each softmax row.
        grad_before = torch.cat([(grad.unsqueeze(1) * to_before).view(N, 6 * C), grad.new_zeros(N, 1)], dim=1)
        return (None, grad * z[:, C:], grad_before, messages.t() @ grad_gates, grad_gates.sum(0),
                states.t() @ grad_values.view(N, 2 * C), states.t() @ grad_keys)


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
    ``L x L`` tensor. The GRU gates that read :math:`\mathbf{H}^{l-1}` (the node
    cell's input gates, the context cell's hidden gates) are
    one matmul over all nodes before the walk; a level computes only the gates
    that read its messages :math:`\mathbf{M}`, in one matmul, and both cells'
    gate arithmetic together. The walk's backward is written out (:class:`DAGWalk`): about
    a dozen operations per level, and each weight's gradient one matmul after the walk;
    ``torch.compile`` traces both. The score term from :math:`\mathbf{H}^{l-1}_i` is constant
    over :math:`j` and cancels in the softmax, so the walk leaves it out (:class:`DAGWalk`).
    Under ``torch.autocast`` the layer is a float32 island: its softmax and gate arithmetic want
    float32, and bf16 does not speed the walk up on CPU (docs/speed.md).

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
        node, ctx = self.gru_node, self.gru_context

        def by_gate(node_part: Tensor, ctx_part: Tensor) -> list[Tensor]:   # [r_node, r_ctx, z_node, z_ctx, n_node, n_ctx]
            node_gates, ctx_gates = node_part.split(C), ctx_part.split(C)
            return [g for pair in zip(node_gates, ctx_gates) for g in pair]

        w_key, w_query = self.attention.weight.view(2, C)
        device = x.device.type
        island = torch.is_autocast_enabled(device)
        with torch.autocast(device, enabled=False):
            dtype = torch.float32 if island else x.dtype
            h_prev = x.new_empty(x.shape, dtype=dtype).index_copy_(0, schedule.level_index, x.to(dtype))
            # Everything that reads H^{l-1}, for all nodes at once: the node cell's input gates, the
            # context cell's hidden gates and the query score. Under autocast, in float32 (the
            # parameters' dtype), as the walk.
            before = torch.addmm(torch.cat([*by_gate(node.bias_ih, ctx.bias_hh), self.attention.bias]),
                                 h_prev, torch.cat([*by_gate(node.weight_ih, ctx.weight_hh), w_query[None]]).t())
            # The maps the walk applies per level, in-major (DAGWalk), each one copy.
            w_message = torch.cat([w.t() for w in by_gate(node.weight_hh, ctx.weight_ih)], dim=1)
            w_value = torch.cat([self.relation_same.weight.t(), self.relation_other.weight.t()], dim=1)
            inputs = (schedule, h_prev, before, w_message, torch.cat(by_gate(node.bias_hh, ctx.bias_ih)),
                      w_value, w_key)
            states, alpha = DAGWalk.apply(*inputs)
        out = states[schedule.level_index]
        if return_attention_weights:
            return out, (edge_index, alpha[schedule.edge_slot])
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
