"""MFCRE's DialogueCRN reasoning module with xLSTM (Qi et al., `../shared/papers/xlstm-mfcre.md`, eqs. 1-3)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from dialoggraph.nn.seq.xlstm import XLSTM, MLSTMCell, SLSTMCell


def dialogue_statistics(memory: Tensor, batch: Tensor | None) -> tuple[Tensor, Tensor]:
    """Per-node mean and population variance, over the node's dialogue, of every channel of ``memory``.

    Shapes: ``memory`` :math:`(N, d)`, ``batch`` :math:`(N)` -> two :math:`(N, d)`.
    """
    if batch is None:
        batch = torch.zeros(memory.size(0), dtype=torch.long, device=memory.device)
    mean = scatter(memory, batch, dim=0, reduce="mean")[batch]
    variance = scatter((memory - mean) ** 2, batch, dim=0, reduce="mean")[batch]
    return mean, variance


def simam_energy_gate(query: Tensor, mean: Tensor, variance: Tensor, lam: float = 1e-4) -> Tensor:
    r"""SimAM's attention weight :math:`\mathrm{sigmoid}(1/E)` of each query against its dialogue's context.

    Every channel :math:`d` of the dialogue's global context
    :math:`\{\mathbf{m}_j\}_{j=1}^{N}` is one SimAM "channel" whose neurons are
    the :math:`N` utterances; the query neuron :math:`\tilde q_{i,d}` has the
    minimal energy

    .. math::
        E_{i,d} = \frac{4(\sigma_d^2 + \lambda)}{(\tilde q_{i,d} - \mu_d)^2 + 2\sigma_d^2 + 2\lambda},
        \qquad \mu_d = \tfrac1N \textstyle\sum_j m_{j,d},\quad
        \sigma_d^2 = \tfrac1N \textstyle\sum_j (m_{j,d} - \mu_d)^2

    (the :math:`\sum_{j=1}^{N}` of MFCRE eq. 2), so
    :math:`1/E_{i,d} = (\tilde q_{i,d} - \mu_d)^2 / (4(\sigma_d^2 + \lambda)) + 1/2`:
    a query channel that stands out from the conversation gets a weight near 1,
    an ordinary one about :math:`\mathrm{sigmoid}(1/2)`. ``mean`` and
    ``variance`` are the context's per-dialogue statistics,
    :func:`dialogue_statistics` (the population variance, so one-utterance
    dialogues are defined): O(N x d), no pairwise tensor.

    Shapes: ``query``, ``mean``, ``variance`` :math:`(N, d)` -> :math:`(N, d)`.
    """
    return torch.sigmoid((query - mean) ** 2 / (4 * (variance + lam)) + 0.5)


class DialogueCRNReasoning(torch.nn.Module):
    r"""DialogueCRN's contextual reasoning with xLSTM and SimAM attention (MFCRE sec. 3.2, eqs. 1-3).

    The context :math:`\mathbf{c}_i \in \mathbb{R}^{2d_u}` of each utterance
    comes from a bidirectional :class:`XLSTM` over its dialogue (after a linear
    map of the input features to :math:`2d_u`). Then, for every utterance at
    once, ``turns`` reasoning turns of an xLSTM cell whose state is the
    working memory :math:`\mathbf{h}_i` (zero at the start):

    .. math::
        \mathbf{q}_i^{(0)} &= \mathbf{W}_q \mathbf{c}_i + \mathbf{b}_q \in \mathbb{R}^{4d_u} \\
        \tilde{\mathbf{q}}_i^{(t-1)}, \mathbf{h}_i^{(t)} &= \mathrm{xLSTM}(\mathbf{q}_i^{(t-1)}, \mathbf{h}_i^{(t-1)})
            \qquad \text{(eq. 1)} \\
        \mathbf{r}_i^{(t-1)} &= \mathrm{sigmoid}(1/\mathbf{E}_i) \odot \tilde{\mathbf{q}}_i^{(t-1)}
            \qquad \text{(eq. 2)} \\
        \mathbf{q}_i^{(t)} &= [\tilde{\mathbf{q}}_i^{(t-1)}; \mathbf{r}_i^{(t-1)}] \qquad \text{(eq. 3)}

    and the module returns :math:`\mathbf{q}^{(T)}`. :math:`\mathbf{E}_i` is
    SimAM's energy of the query against the dialogue's global context
    :math:`\mathbf{m}_j = \mathbf{W}_m \mathbf{c}_j + \mathbf{b}_m` (the "linear
    layer" of sec. 3.2; :func:`simam_energy_gate`). ``attention=False`` is
    Table 4's "w/o simAM attention": the gate is 1, so
    :math:`\mathbf{r} = \tilde{\mathbf{q}}`. The recurrence runs
    over turns (a handful), never over utterances or dialogues. Our reading
    (the paper gives no code): the reasoning cell is an sLSTM cell by default
    (``cell="m"`` for an mLSTM cell); DialogueCRN's speaker-level reasoning is
    not in MFCRE and not here.

    Args:
        in_channels: input feature size.
        hidden: :math:`2d_u`; the output is :math:`4d_u` = ``2 * hidden``.
        turns: reasoning turns :math:`T`.
        cell: ``"s"`` or ``"m"``, the reasoning cell.
        context_blocks: cell kinds of the context XLSTM (``""``: :math:`\mathbf{c}` is the projection).
        heads: mLSTM heads.
        attention: use the SimAM gate (eq. 2).
        lam: SimAM's :math:`\lambda`.

    Shapes: ``x`` :math:`(N, F)`, ``batch`` :math:`(N)` -> :math:`(N, 2\cdot hidden)`.
    """

    def __init__(self, in_channels: int, hidden: int, turns: int = 2, cell: str = "s", context_blocks: str = "m",
                 heads: int = 4, attention: bool = True, lam: float = 1e-4):
        super().__init__()
        if cell not in ("s", "m"):
            raise ValueError(f"cell must be 's' (sLSTM) or 'm' (mLSTM), got {cell!r}")
        if turns < 1:
            raise ValueError(f"turns must be >= 1, got {turns}")
        self.turns, self.attention, self.lam = turns, attention, lam
        self.input = torch.nn.Linear(in_channels, hidden)
        self.context = XLSTM(hidden, context_blocks, heads=heads, bidirectional=True) if context_blocks else None
        self.query = torch.nn.Linear(hidden, 2 * hidden)                      # W_q, b_q
        self.memory = torch.nn.Linear(hidden, hidden)                         # W_m, b_m
        self.cell = SLSTMCell(2 * hidden, hidden) if cell == "s" else MLSTMCell(2 * hidden, hidden, heads)

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        c = self.input(x)
        if self.context is not None:
            c = self.context(c, batch)
        q = self.query(c)
        if self.attention:                      # the global context is the same in every turn
            mean, variance = dialogue_statistics(self.memory(c), batch)
        state = self.cell.initial_state(x.size(0), x)
        for _ in range(self.turns):                                           # reasoning turns t = 1..T
            q_tilde, state = self.cell(q, state)                              # eq. 1
            gate = simam_energy_gate(q_tilde, mean, variance, self.lam) if self.attention else 1.0
            q = torch.cat([q_tilde, gate * q_tilde], dim=-1)                  # eqs. 2-3
        return q
