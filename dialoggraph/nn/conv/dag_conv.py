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
        window_mask = torch.zeros(total, dtype=torch.bool, device=device)
        window_mask[edge_slot] = True
        window_same = torch.zeros(total, dtype=torch.bool, device=device)
        window_same[edge_slot] = same_speaker.bool()
        return DAGSchedule(level_sizes_t.tolist(), window.tolist(), level_index, edge_slot,
                           window_mask, window_same)


def gru_update(input_gates: Tensor, hidden_gates: Tensor, hidden: Tensor) -> Tensor:
    r"""``torch.nn.GRUCell``'s update from its gate pre-activations (biases included):

    .. math::
        \mathbf{r} = \sigma(\mathbf{g}^{i}_{r} + \mathbf{g}^{h}_{r}), \quad
        \mathbf{z} = \sigma(\mathbf{g}^{i}_{z} + \mathbf{g}^{h}_{z}), \quad
        \mathbf{n} = \tanh(\mathbf{g}^{i}_{n} + \mathbf{r} \odot \mathbf{g}^{h}_{n}), \quad
        \mathbf{h}' = (1 - \mathbf{z}) \odot \mathbf{n} + \mathbf{z} \odot \mathbf{h}

    with :math:`\mathbf{g}^{i} = \mathbf{W}_{ih}\mathbf{x} + \mathbf{b}_{ih}` and
    :math:`\mathbf{g}^{h} = \mathbf{W}_{hh}\mathbf{h} + \mathbf{b}_{hh}` split into the reset,
    update and new thirds.

    Shapes: ``input_gates``, ``hidden_gates`` :math:`(*, 3C)`, ``hidden`` :math:`(*, C)` -> :math:`(*, C)`.

    Example:
        >>> cell = torch.nn.GRUCell(4, 4)
        >>> x, h = torch.randn(3, 4), torch.randn(3, 4)
        >>> gates = (torch.nn.functional.linear(x, cell.weight_ih, cell.bias_ih),
        ...          torch.nn.functional.linear(h, cell.weight_hh, cell.bias_hh))
        >>> torch.allclose(gru_update(*gates, h), cell(x, h), atol=1e-6)
        True
    """
    C = hidden.size(-1)
    reset, update = torch.sigmoid(input_gates[..., :2 * C] + hidden_gates[..., :2 * C]).chunk(2, dim=-1)
    new = torch.tanh(input_gates[..., 2 * C:] + reset * hidden_gates[..., 2 * C:])
    return new + update * (hidden - new)


class SharedLinear:
    r"""One affine map :math:`\mathbf{y} = \mathbf{x}\mathbf{W} + \mathbf{b}` applied to many
    small inputs in turn (the steps of a walk), whose weight gradient is one matmul.

    Autograd would give :math:`\mathbf{W}` a full-size gradient at every application and add
    them up, writing :math:`T` matrices of :math:`\mathbf{W}`'s size for a :math:`T`-step walk.
    Here each application's backward returns its input gradient
    :math:`\partial\mathbf{x}_t = \partial\mathbf{y}_t \mathbf{W}^\top` only and keeps
    :math:`(\mathbf{x}_t, \partial\mathbf{y}_t)`. Every application also reads one scalar token
    made from :math:`\mathbf{W}` and :math:`\mathbf{b}`, so autograd runs the token's backward
    after all of theirs; it gives
    :math:`\partial\mathbf{W} = [\mathbf{x}_1; \dots; \mathbf{x}_T]^\top
    [\partial\mathbf{y}_1; \dots; \partial\mathbf{y}_T]` and
    :math:`\partial\mathbf{b} = \sum_t \mathbf{1}^\top \partial\mathbf{y}_t`: the same
    values, in one matmul. Without gradients, and under ``torch.compile`` (which builds its own
    backward and cannot trace the kept pairs), it is the plain affine map. Under
    ``torch.autocast`` the forward is autocast's matmul and the backward computes in its dtype,
    as autocast's own matmul backward does, whether or not it runs inside the autocast region.

    Make one per forward pass. No double backward.

    Args:
        weight: :math:`\mathbf{W}`.
        bias: :math:`\mathbf{b}`, or ``None``.

    Shapes:
        - **weight:** :math:`(C_{in}, C_{out})`; **bias:** :math:`(C_{out})`
        - **a call:** :math:`(*, C_{in})` -> :math:`(*, C_{out})`

    Example:
        >>> w, b = torch.randn(4, 4, requires_grad=True), torch.randn(4, requires_grad=True)
        >>> x = torch.randn(2, 4)
        >>> step = SharedLinear(w, b)
        >>> step(torch.tanh(step(x))).sum().backward()          # a walk of two steps
        >>> shared, w.grad = w.grad, None
        >>> torch.addmm(b, torch.tanh(torch.addmm(b, x, w)), w).sum().backward()
        >>> torch.allclose(shared, w.grad)
        True
    """

    def __init__(self, weight: Tensor, bias: Tensor | None = None):
        self.weight, self.bias = weight, bias
        self.records: dict[int, tuple[Tensor, Tensor]] = {}     # application -> (input, output gradient)
        self.applications = 0
        deferred = torch.is_grad_enabled() and not torch.compiler.is_compiling() and (
            weight.requires_grad or (bias is not None and bias.requires_grad))
        self.token = _SharedLinearToken.apply(self, weight, bias) if deferred else None

    def __call__(self, x: Tensor) -> Tensor:
        if self.token is None:
            return x @ self.weight if self.bias is None else torch.addmm(self.bias, x, self.weight)
        self.applications += 1
        return _SharedLinearApply.apply(self, x, self.token)


class _SharedLinearToken(torch.autograd.Function):
    """A scalar that every application of a :class:`SharedLinear` reads, so that its backward,
    the weight's and the bias's gradients from all applications, runs after theirs."""

    @staticmethod
    def forward(ctx, shared: SharedLinear, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.shared = shared
        return weight.new_zeros(())

    @staticmethod
    def backward(ctx, _):
        records, ctx.shared.records = list(ctx.shared.records.values()), {}
        if not records:
            return None, None, None
        # In the dtype the applications computed in (bf16 under autocast, as autocast's own
        # matmul backward would); autograd casts the gradients to the parameters' dtype.
        dtype = records[0][1].dtype
        x = torch.cat([r[0].to(dtype) for r in records])
        grad = torch.cat([r[1] for r in records])
        bias = grad.sum(0) if ctx.needs_input_grad[2] else None
        return None, x.t() @ grad if ctx.needs_input_grad[1] else None, bias


class _SharedLinearApply(torch.autograd.Function):
    """One application of a :class:`SharedLinear`: the affine map forward; backward, the input
    gradient, with the pair that the weight's gradient needs kept for the token."""

    @staticmethod
    def forward(ctx, shared: SharedLinear, x: Tensor, token: Tensor) -> Tensor:
        ctx.shared, ctx.application = shared, shared.applications
        ctx.save_for_backward(x)
        weight = shared.weight.detach()
        return x @ weight if shared.bias is None else torch.addmm(shared.bias.detach(), x, weight)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, = ctx.saved_tensors
        # Keyed by application: a pass that stopped short of the token (gradients for the inputs
        # only) leaves pairs that the next pass over a retained graph replaces, not adds to.
        ctx.shared.records[ctx.application] = (x, grad)
        grad_x = grad @ ctx.shared.weight.detach().to(grad.dtype).t() if ctx.needs_input_grad[1] else None
        return None, grad_x, grad.new_zeros(())


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
    cell's input gates, the context cell's hidden gates) and the query score are
    one matmul over all nodes before the walk; a level computes only the gates
    that read its messages :math:`\mathbf{M}`, in one matmul, and both cells'
    gate arithmetic together. The two maps applied per level (the message gates, and the
    relation maps and key score of the states it produces) get their weight gradients in one
    matmul each after the walk (:class:`SharedLinear`).

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
        node, ctx = self.gru_node, self.gru_context
        w_key, w_query = self.attention.weight[0, :C], self.attention.weight[0, C:]
        # Everything that reads H^{l-1} at once, for every node: the node cell's input gates, the
        # context cell's hidden gates and the query score (the last column).
        before = torch.addmm(torch.cat([node.bias_ih, ctx.bias_hh, self.attention.bias]), h_prev,
                             torch.cat([node.weight_ih, ctx.weight_hh, w_query.unsqueeze(0)]).t())   # [N, 6C + 1]
        # Per level, what reads the messages M: the node cell's hidden gates, the context cell's input gates.
        message_bias = torch.cat([node.bias_hh, ctx.bias_ih])
        read_message = SharedLinear(torch.cat([node.weight_hh, ctx.weight_ih]).t(), message_bias)  # [C, 6C]
        # Per produced state: [W_same h ; W_other h ; w_key . h], computed once.
        produce = SharedLinear(torch.cat([self.relation_same.weight.t(), self.relation_other.weight.t(),
                                          w_key.unsqueeze(1)], dim=1))            # [C, 2C + 1]
        states: list[Tensor] = []
        produced: list[Tensor] = []
        alphas: list[Tensor] = []
        slot = 0
        # Split once (its backward is one concatenation, where a slice per level would add a
        # full-size gradient per level).
        levels = zip(schedule.level_sizes, schedule.window_sizes, h_prev.split(schedule.level_sizes),
                     before.split(schedule.level_sizes))
        for p, (rows, reach, h_p, before_p) in enumerate(levels):
            if reach == 0:
                message = h_p.new_zeros(rows, C)
                from_message = message_bias.expand(rows, 6 * C)
            else:
                window = torch.stack([produced[p - k][:rows] for k in range(1, reach + 1)], dim=1)
                mask = schedule.window_mask[slot:slot + rows * reach].view(rows, reach)
                same = schedule.window_same[slot:slot + rows * reach].view(rows, reach, 1)
                score = window[..., 2 * C] + before_p[:, 6 * C:]
                score = score.masked_fill(~mask, torch.finfo(score.dtype).min)
                alpha = torch.softmax(score, dim=1).masked_fill(~mask, 0.0)   # no predecessor: M = 0
                value = torch.where(same, window[..., :C], window[..., C:2 * C])
                message = torch.bmm(alpha.unsqueeze(1), value).squeeze(1)
                alphas.append(alpha.reshape(-1))
                slot += rows * reach
                from_message = read_message(message)
            # GRU_node(input H^{l-1}, hidden M) and GRU_ctx(input M, hidden H^{l-1}), stacked on dim 0.
            input_gates = torch.stack([before_p[:, :3 * C], from_message[:, 3 * C:]])
            hidden_gates = torch.stack([from_message[:, :3 * C], before_p[:, 3 * C:6 * C]])
            h = gru_update(input_gates, hidden_gates, torch.stack([message, h_p])).sum(0)
            states.append(h)
            produced.append(produce(h))
        out = torch.cat(states)[schedule.level_index] if states else x.new_empty(0, C)
        if return_attention_weights:
            packed = torch.cat(alphas) if alphas else x.new_empty(0)
            return out, (edge_index, packed[schedule.edge_slot])
        return out

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
