"""MFCRE's DialogueCRN reasoning module with xLSTM (eqs. 1-3 of Qi, Ibrayim & Tohti, "Contextual
xLSTM-Based Multimodal Fusion for Conversational Emotion Recognition")."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.seq.xlstm import XLSTM, MLSTMCell, SLSTMCell


def dialogue_statistics(memory: Tensor, batch: Tensor | None) -> tuple[Tensor, Tensor]:
    """Per-node mean and population variance, over the node's dialogue, of every channel of ``memory``.

    Shapes: ``memory`` :math:`(N, d)`, ``batch`` :math:`(N)` -> two :math:`(N, d)`.

    Example:
        Two dialogues, one channel: utterances 0-1 form the first, utterance 2 the second.

        >>> memory = torch.tensor([[1.0], [3.0], [10.0]])
        >>> mean, variance = dialogue_statistics(memory, torch.tensor([0, 0, 1]))
        >>> mean.flatten(), variance.flatten()
        (tensor([ 2.,  2., 10.]), tensor([1., 1., 0.]))
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

    Example:
        A query at its dialogue's mean gets :math:`\mathrm{sigmoid}(1/2)`; one ten standard
        deviations away gets almost 1.

        >>> query = torch.tensor([[2.0], [12.0]])
        >>> simam_energy_gate(query, mean=torch.full((2, 1), 2.0), variance=torch.ones(2, 1))
        tensor([[0.6225],
                [1.0000]])
    """
    return torch.sigmoid((query - mean) ** 2 / (4 * (variance + lam)) + 0.5)


def memory_retrieval(query: Tensor, memory: Tensor, batch: Tensor | None) -> Tensor:
    r"""DialogueCRN's retrieval from the dialogue's memory (``ReasonModule``, github zerohd4869/DialogueCRN):

    .. math::
        \mathbf{r}_i = \sum_{j \in \mathcal{D}(i)} \operatorname{softmax}_j(\mathbf{m}_j^\top \tilde{\mathbf{q}}_i)\, \mathbf{m}_j

    over the utterances :math:`j` of utterance :math:`i`'s dialogue (unscaled
    dot products, as in the released code). One padded ``[B, L, L]`` score
    tensor per batch: this is attention over the whole dialogue by definition.

    Shapes: ``query``, ``memory`` :math:`(N, d)`, ``batch`` :math:`(N)` -> :math:`(N, d)`.

    Example:
        Each query of the first dialogue retrieves the memory it points at; the one-utterance
        second dialogue can only retrieve its own memory.

        >>> memory = torch.tensor([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
        >>> query = torch.tensor([[10.0, 0.0], [0.0, 10.0], [1.0, 1.0]])
        >>> memory_retrieval(query, memory, torch.tensor([0, 0, 1])).round(decimals=3)
        tensor([[1., 0.],
                [0., 1.],
                [5., 5.]])
    """
    q, mask = to_padded(query, batch)
    m, _ = to_padded(memory, batch)
    scores = (q @ m.transpose(1, 2)).masked_fill(~mask.unsqueeze(1), float("-inf"))
    return from_padded(torch.softmax(scores, dim=-1) @ m, mask)


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
        \mathbf{r}_i^{(t-1)} &= \sum_j \operatorname{softmax}_j(\mathbf{m}_j^\top \tilde{\mathbf{q}}_i^{(t-1)})\,
            \mathbf{m}_j \qquad \text{(eq. 2, } \texttt{retrieval="attention"}\text{)} \\
        \mathbf{q}_i^{(t)} &= [\tilde{\mathbf{q}}_i^{(t-1)}; \mathbf{r}_i^{(t-1)}] \qquad \text{(eq. 3)}

    and the module returns :math:`\mathbf{q}^{(T)}`, with the dialogue's global
    context :math:`\mathbf{m}_j = \mathbf{W}_m \mathbf{c}_j + \mathbf{b}_m` (the
    "linear layer" of sec. 3.2). ``retrieval="attention"`` (default) is
    DialogueCRN's retrieval, which DialogueCRN's and the MFCRE authors'
    released code keep (:func:`memory_retrieval`). ``retrieval="simam"`` is
    our reading of eq. 2's SimAM wording,
    :math:`\mathbf{r}_i = \mathrm{sigmoid}(1/\mathbf{E}_i) \odot \tilde{\mathbf{q}}_i`
    with :math:`\mathbf{E}_i` SimAM's energy of the query against the context
    (:func:`simam_energy_gate`). ``attention=False`` is Table 4's "w/o simAM
    attention": :math:`\mathbf{r} = \tilde{\mathbf{q}}`. The recurrence runs
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
        attention: retrieve :math:`\mathbf{r}` (eq. 2); ``False`` copies :math:`\tilde{\mathbf{q}}`.
        retrieval: ``"attention"`` (DialogueCRN, default) or ``"simam"`` (the gate reading).
        lam: SimAM's :math:`\lambda`.

    Shapes: ``x`` :math:`(N, F)`, ``batch`` :math:`(N)` -> :math:`(N, 2\cdot hidden)`.

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> DialogueCRNReasoning(16, 8)(torch.randn(5, 16), batch).shape[0]
        5
    """

    def __init__(self, in_channels: int, hidden: int, turns: int = 2, cell: str = "s", context_blocks: str = "m",
                 heads: int = 4, attention: bool = True, retrieval: str = "attention", lam: float = 1e-4):
        super().__init__()
        if cell not in ("s", "m"):
            raise ValueError(f"cell must be 's' (sLSTM) or 'm' (mLSTM), got {cell!r}")
        if retrieval not in ("attention", "simam"):
            raise ValueError(f"retrieval must be 'attention' or 'simam', got {retrieval!r}")
        if turns < 1:
            raise ValueError(f"turns must be >= 1, got {turns}")
        self.turns, self.attention, self.retrieval, self.lam = turns, attention, retrieval, lam
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
        memory = self.memory(c)                 # the global context is the same in every turn
        if self.attention and self.retrieval == "simam":
            mean, variance = dialogue_statistics(memory, batch)
        state = self.cell.initial_state(x.size(0), x)
        for _ in range(self.turns):                                           # reasoning turns t = 1..T
            q_tilde, state = self.cell(q, state)                              # eq. 1
            if not self.attention:
                r = q_tilde
            elif self.retrieval == "attention":
                r = memory_retrieval(q_tilde, memory, batch)                  # eq. 2
            else:
                r = simam_energy_gate(q_tilde, mean, variance, self.lam) * q_tilde
            q = torch.cat([q_tilde, r], dim=-1)                               # eq. 3
        return q
