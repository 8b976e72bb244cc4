"""MFCRE's DialogueCRN: situation- and speaker-level reasoning with an xLSTM cell and SimAM (eqs. 1-3 of
Qi, Ibrayim & Tohti, "Contextual xLSTM-Based Multimodal Fusion for Conversational Emotion Recognition";
DialogueCRN: Hu, Wei & Huai, "DialogueCRN: Contextual Reasoning Networks for Emotion Recognition in
Conversations", ACL 2021)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.dropout import dropout
from dialoggraph.nn.seq.vil import ViLBlock
from dialoggraph.nn.seq.xlstm import MLSTMCell, SLSTMCell


def simam(x: Tensor, lam: float = 1e-4) -> Tensor:
    r"""SimAM (Yang et al., ICML 2021) over the last dimension: each of the :math:`n` channels of
    a vector is a neuron of one SimAM "channel", gated by its inverse minimal energy

    .. math::
        \mathbf{x} \odot \mathrm{sigmoid}\Big(\frac{(\mathbf{x} - \mu)^2}{4(\sigma^2 + \lambda)} + \frac12\Big),
        \qquad \mu = \tfrac1n \textstyle\sum_c x_c,\quad \sigma^2 = \tfrac{1}{n-1} \textstyle\sum_c (x_c - \mu)^2

    (the released ``simam_module`` with its statistics over the last axis).

    Shapes: :math:`(*, n)` -> :math:`(*, n)`.

    Example:
        A channel at the vector's mean gets :math:`\mathrm{sigmoid}(1/2)`:

        >>> simam(torch.tensor([[-1.0, 0.0, 1.0]]))[0, 2] / 1.0 > torch.sigmoid(torch.tensor(0.5))
        tensor(True)
        >>> simam(torch.tensor([[1.0, 2.0, 3.0]]))[0, 1] / 2.0
        tensor(0.6225)
    """
    deviation = (x - x.mean(-1, keepdim=True)) ** 2
    variance = deviation.sum(-1, keepdim=True) / (x.size(-1) - 1)
    return x * torch.sigmoid(deviation / (4 * (variance + lam)) + 0.5)


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


class ReasonModule(torch.nn.Module):
    r"""One level of DialogueCRN's multi-turn reasoning (MFCRE eqs. 1-3), for every utterance at once.

    From the query :math:`\mathbf{q}^{(0)}_i \in \mathbb{R}^{2n}` and the
    dialogue's memory :math:`\{\mathbf{m}_j\}` (:math:`n` wide), ``turns`` times:

    .. math::
        \tilde{\mathbf{q}}_i^{(t-1)}, \mathbf{h}_i^{(t)} &= \mathrm{xLSTM}(\mathbf{q}_i^{(t-1)}, \mathbf{h}_i^{(t-1)})
            \qquad \text{(eq. 1)} \\
        \hat{\mathbf{q}}_i &= \mathrm{SimAM}(\tilde{\mathbf{q}}_i^{(t-1)}),\qquad
        \mathbf{r}_i^{(t-1)} = \sum_j \operatorname{softmax}_j(\mathbf{m}_j^\top \hat{\mathbf{q}}_i)\, \mathbf{m}_j
            \qquad \text{(eq. 2)} \\
        \mathbf{q}_i^{(t)} &= [\hat{\mathbf{q}}_i; \mathbf{r}_i^{(t-1)}] \qquad \text{(eq. 3)}

    as the authors' ``ReasonModule`` (github rhoqwomda/MFCRE, ``Model/DialogueCRN.py``):
    :func:`simam` on the cell's output, then DialogueCRN's
    :func:`memory_retrieval`. With ``turns=0`` the query is returned as it is.

    Reading: the released module calls ``ViLBlock(2n, n, 1)`` with DialogueCRN's
    LSTM signature ``(q, h) -> (q~, h)``, which no ViL block has (its
    arguments are ``dim, direction, drop_path``, ``drop_path=1`` is refused,
    and it maps a sequence to a sequence of its own width). The closest block
    that runs (``cell="vil"``) keeps what the LSTM did: the working memory
    :math:`\mathbf{h}` is the history of the queries, the causal
    :class:`~dialoggraph.nn.seq.vil.ViLBlock` of width :math:`2n` runs over
    :math:`\mathbf{q}^{(0)}, \dots, \mathbf{q}^{(t-1)}`, and a linear map
    takes its last output to :math:`n` (the LSTM's hidden size). ``cell="s"``
    / ``"m"`` use an sLSTM / mLSTM cell with its state as :math:`\mathbf{h}`.

    Args:
        channels: the memory's width :math:`n`; queries are :math:`2n` wide.
        turns: reasoning turns :math:`T` (0: no reasoning).
        cell: ``"vil"``, ``"s"`` or ``"m"``.
        use_simam: apply SimAM to the cell's output (False: Table 4's "w/o simAM attention").
        heads: mLSTM heads of ``cell="m"``.
        lam: SimAM's :math:`\lambda`.

    Shapes: ``query`` :math:`(N, 2n)`, ``memory`` :math:`(N, n)`, ``batch`` :math:`(N)` -> :math:`(N, 2n)`.

    Example:
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> ReasonModule(4, turns=2)(torch.randn(5, 8), torch.randn(5, 4), batch).shape
        torch.Size([5, 8])
    """

    def __init__(self, channels: int, turns: int = 2, cell: str = "vil", use_simam: bool = True, heads: int = 4,
                 lam: float = 1e-4):
        super().__init__()
        if cell not in ("vil", "s", "m"):
            raise ValueError(f"cell must be 'vil', 's' (sLSTM) or 'm' (mLSTM), got {cell!r}")
        if turns < 0:
            raise ValueError(f"turns must be >= 0, got {turns}")
        self.turns, self.kind, self.use_simam, self.lam = turns, cell, use_simam, lam
        if cell == "vil":
            self.cell = ViLBlock(2 * channels)
            self.cell_out = torch.nn.Linear(2 * channels, channels)
        else:
            self.cell = SLSTMCell(2 * channels, channels) if cell == "s" else MLSTMCell(2 * channels, channels, heads)

    def forward(self, query: Tensor, memory: Tensor, batch: Tensor | None) -> Tensor:
        history, state = [], None
        if self.kind != "vil":
            state = self.cell.initial_state(query.size(0), query)
        for _ in range(self.turns):
            if self.kind == "vil":
                history.append(query)
                q = self.cell_out(self.cell(torch.stack(history, dim=1))[:, -1])          # eq. 1
            else:
                q, state = self.cell(query, state)                                        # eq. 1
            if self.use_simam:
                q = simam(q, self.lam)
            query = torch.cat([q, memory_retrieval(q, memory, batch)], dim=-1)            # eqs. 2-3
        return query


class DialogueCRN(torch.nn.Module):
    r"""MFCRE's context module: DialogueCRN's situation- and speaker-level reasoning on one modality.

    .. math::
        \mathbf{q}^{(0)}_i &= \mathbf{W}_q \mathbf{u}_i + \mathbf{b}_q \\
        \mathbf{o}_i &= \mathbf{W}_o\,\mathrm{Dropout}\big(\mathrm{ReLU}(
            [\mathrm{Reason}_{p}(\mathbf{q}^{(0)}_i); \mathrm{Reason}_{s}(\mathbf{q}^{(0)}_i)])\big) + \mathbf{b}_o

    with the two :class:`ReasonModule` s (speaker level :math:`p`, situation
    level :math:`s`) sharing :math:`\mathbf{W}_q` and reading the utterances
    :math:`\mathbf{u}_j` of the dialogue as memory, as the authors' ``DialogueCRN``
    (github rhoqwomda/MFCRE). Every utterance is reasoned for at once.

    Readings, where the released class cannot run as it is called: its
    ``forward(U_s, U_p, seq_lengths)`` is called with the features, the speaker
    masks and the utterance masks, so :math:`\mathbf{U}_p` (the speaker-level
    input) is read as the features too; its output ``log_softmax(smax_fc(.))``
    has ``n_classes`` channels where the next layer takes ``model_dim``, so
    :math:`\mathbf{W}_o` maps to ``out_channels`` and there is no
    log-softmax; its ``dropout`` argument receives the hidden width and is read
    as the model's dropout rate.

    Args:
        channels: the utterance features' width :math:`n`.
        out_channels: the output width.
        turns: reasoning turns of each level.
        cell: the reasoning cell (:class:`ReasonModule`).
        use_simam: SimAM on the queries.
        dropout: dropout before :math:`\mathbf{W}_o`.
        heads: mLSTM heads of ``cell="m"``.

    Shapes: ``x`` :math:`(N, n)`, ``batch`` :math:`(N)` -> :math:`(N, \text{out\_channels})`.

    Example:
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> DialogueCRN(8, 16)(torch.randn(5, 8), batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, out_channels: int, turns: int = 2, cell: str = "vil", use_simam: bool = True,
                 dropout: float = 0.0, heads: int = 4):
        super().__init__()
        self.dropout = dropout
        self.query = torch.nn.Linear(channels, 2 * channels)
        self.speaker = ReasonModule(channels, turns, cell, use_simam, heads)
        self.situation = ReasonModule(channels, turns, cell, use_simam, heads)
        self.out = torch.nn.Linear(4 * channels, out_channels)

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        q = self.query(x)
        hidden = torch.cat([self.speaker(q, x, batch), self.situation(q, x, batch)], dim=-1)
        return self.out(dropout(F.relu(hidden), self.dropout, self.training))
