"""xLSTM: sLSTM and mLSTM cells with stabilised exponential gating, and a stack of residual
blocks as a node-feature transform.

Reference: Maximilian Beck, Korbinian Pöppel, Markus Spanring, Andreas Auer, Oleksandra Prudnikova,
Michael Kopp, Günter Klambauer, Johannes Brandstetter, Sepp Hochreiter, "xLSTM: Extended Long
Short-Term Memory", arXiv:2405.04517, 2024; code: https://github.com/NX-AI/xlstm."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from dialoggraph.data.padding import from_padded, to_padded

#: Sequences longer than this run in segments of this many steps, the state carried from one to
#: the next: an mLSTM segment holds ``heads x T x T`` weights (its parallel form), and in training
#: each segment is checkpointed, so the backward pass recomputes one segment at a time instead of
#: keeping every step's state for the whole dialogue.
SEGMENT_STEPS = 128


class SLSTMCell(torch.nn.Module):
    r"""sLSTM: scalar memory, exponential input gate, recurrent memory mixing.

    .. math::
        \tilde{\mathbf{z}}, \tilde{\mathbf{i}}, \tilde{\mathbf{f}}, \tilde{\mathbf{o}} &=
            \mathbf{W}\mathbf{x}_t + \mathbf{R}\mathbf{h}_{t-1} + \mathbf{b} \\
        \mathbf{m}_t &= \max(\log\sigma(\tilde{\mathbf{f}}) + \mathbf{m}_{t-1},\ \tilde{\mathbf{i}}) \\
        \mathbf{i}'_t &= \exp(\tilde{\mathbf{i}} - \mathbf{m}_t),\quad
        \mathbf{f}'_t = \exp(\log\sigma(\tilde{\mathbf{f}}) + \mathbf{m}_{t-1} - \mathbf{m}_t) \\
        \mathbf{c}_t &= \mathbf{f}'_t \odot \mathbf{c}_{t-1} + \mathbf{i}'_t \odot \tanh(\tilde{\mathbf{z}}),\quad
        \mathbf{n}_t = \mathbf{f}'_t \odot \mathbf{n}_{t-1} + \mathbf{i}'_t \\
        \mathbf{h}_t &= \sigma(\tilde{\mathbf{o}}) \odot \mathbf{c}_t / \mathbf{n}_t

    The stabiliser :math:`\mathbf{m}_t` keeps every exponent <= 0; ``c`` and
    ``n`` are the naive recurrence's scaled by :math:`e^{-\mathbf{m}_t}`, so
    :math:`\mathbf{h}_t` is unchanged (tested against the naive float64 form).
    Forget gates are sigmoid (log-space), input gates exponential. First step
    (where :math:`\mathbf{n}_{t-1} = 0`, nothing is stored yet): as in NX-AI's
    kernel (github NX-AI/xlstm), :math:`\mathbf{m}_t = \tilde{\mathbf{i}}` and
    there is nothing to forget (:math:`\mathbf{f}'_t \mathbf{c}_{t-1} = 0`), so an
    input-gate pre-activation far below zero (e.g. -110, where
    :math:`e^{\tilde i - \log\sigma(\tilde f)}` underflows) still gives a finite
    :math:`\mathbf{h}_t = \sigma(\tilde{\mathbf{o}}) \tanh(\tilde{\mathbf{z}})`
    instead of 0/0.

    Args:
        input_size: size of :math:`\mathbf{x}_t`.
        hidden_size: size of :math:`\mathbf{h}_t`.

    Shapes:
        - **input:** ``x`` :math:`(B, \text{input\_size})`; ``state`` :math:`(\mathbf{h}, \mathbf{c},
          \mathbf{n}, \mathbf{m})`, each :math:`(B, \text{hidden\_size})` (:meth:`initial_state`)
        - **output:** :math:`\mathbf{h}_t` :math:`(B, \text{hidden\_size})` and the new state

    Example:
        >>> import torch
        >>> cell = SLSTMCell(8, 16)
        >>> x = torch.randn(3, 8)                                  # one step of 3 sequences
        >>> h, state = cell(x, cell.initial_state(3, x))
        >>> h.shape
        torch.Size([3, 16])
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.input = torch.nn.Linear(input_size, 4 * hidden_size)
        self.recurrent = torch.nn.Linear(hidden_size, 4 * hidden_size, bias=False)

    def initial_state(self, batch: int, like: Tensor) -> tuple[Tensor, ...]:
        zeros = like.new_zeros(batch, self.hidden_size)
        return zeros, zeros, zeros, zeros.clone()        # h, c, n, m

    def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        return self._update(self.input(x) + self.recurrent(state[0]), state)

    def scan(self, xs: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        r"""Every step of ``xs`` :math:`(B, T, \text{input\_size})` in turn -> the outputs
        :math:`(B, T, \text{hidden\_size})` and the last state; the same values as calling the
        cell step by step. :math:`\mathbf{W}\mathbf{x}_t + \mathbf{b}` is one matmul for all
        steps, and :math:`\mathbf{R}` is read from an in-major copy, the fast layout for a step's
        few rows (see :class:`~dialoggraph.nn.conv.dag_conv.DAGWalk`)."""
        from_input = self.input(xs)
        recurrent = self.recurrent.weight.t().contiguous()
        outputs = []
        for t in range(xs.size(1)):
            h, state = self._update(torch.addmm(from_input[:, t], state[0], recurrent), state)
            outputs.append(h)
        return torch.stack(outputs, dim=1), state

    def _update(self, pre: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        r"""The step from the gates' pre-activations :math:`\mathbf{W}\mathbf{x}_t + \mathbf{R}\mathbf{h}_{t-1} + \mathbf{b}`."""
        h, c, n, m = state
        z, i, f, o = pre.chunk(4, dim=-1)
        log_f = F.logsigmoid(f)
        first = n == 0
        m_new = torch.where(first, i, torch.maximum(log_f + m, i))
        i_gate = torch.exp(i - m_new)
        # exp(-inf) = 0 on the first step, finite gradients everywhere (no inf * 0)
        f_gate = torch.exp(torch.where(first, float("-inf"), log_f + m - m_new))
        c = f_gate * c + i_gate * torch.tanh(z)
        n = f_gate * n + i_gate
        h = torch.sigmoid(o) * c / n
        return h, (h, c, n, m_new)


class MLSTMCell(torch.nn.Module):
    r"""mLSTM: matrix memory with a covariance update, per head.

    .. math::
        \mathbf{q}_t, \mathbf{k}_t, \mathbf{v}_t &= \mathbf{W}_{q,k,v}\mathbf{x}_t
            \ (\mathbf{k}_t \text{ scaled by } 1/\sqrt{d}),\qquad
        \tilde{i}_t, \tilde{f}_t = \mathbf{w}_{i,f}^\top \mathbf{x}_t + b \\
        m_t &= \max(\log\sigma(\tilde f_t) + m_{t-1},\ \tilde i_t),\quad
        i'_t = e^{\tilde i_t - m_t},\quad f'_t = e^{\log\sigma(\tilde f_t) + m_{t-1} - m_t} \\
        \mathbf{C}_t &= f'_t \mathbf{C}_{t-1} + i'_t \mathbf{v}_t \mathbf{k}_t^\top,\quad
        \mathbf{n}_t = f'_t \mathbf{n}_{t-1} + i'_t \mathbf{k}_t \\
        \mathbf{h}_t &= \sigma(\mathbf{W}_o \mathbf{x}_t) \odot
            \frac{\mathbf{C}_t \mathbf{q}_t}{\max(|\mathbf{n}_t^\top \mathbf{q}_t|,\ e^{-m_t})}

    the stabilised form of the naive normaliser :math:`\max(|\mathbf{n}^\top\mathbf{q}|, 1)`.

    Args:
        input_size: size of :math:`\mathbf{x}_t`.
        hidden_size: size of :math:`\mathbf{h}_t` (:math:`H` heads of :math:`d` = hidden / heads).
        heads: number of memory heads :math:`H`.

    Shapes:
        - **input:** ``x`` :math:`(B, \text{input\_size})`; ``state`` :math:`(\mathbf{C}, \mathbf{n},
          m)` of shapes :math:`(B, H, d, d)`, :math:`(B, H, d)`, :math:`(B, H)` (:meth:`initial_state`)
        - **output:** :math:`\mathbf{h}_t` :math:`(B, \text{hidden\_size})` and the new state

    Example:
        >>> import torch
        >>> cell = MLSTMCell(8, 16, heads=2)
        >>> x = torch.randn(3, 8)
        >>> h, state = cell(x, cell.initial_state(3, x))
        >>> h.shape
        torch.Size([3, 16])
    """

    def __init__(self, input_size: int, hidden_size: int, heads: int = 4):
        super().__init__()
        if hidden_size % heads:
            raise ValueError(f"hidden_size {hidden_size} must split into {heads} heads")
        self.hidden_size, self.heads, self.head_dim = hidden_size, heads, hidden_size // heads
        self.qkv = torch.nn.Linear(input_size, 3 * hidden_size)
        self.gates = torch.nn.Linear(input_size, 2 * heads)
        self.output_gate = torch.nn.Linear(input_size, hidden_size)

    def initial_state(self, batch: int, like: Tensor) -> tuple[Tensor, ...]:
        H, d = self.heads, self.head_dim
        return (like.new_zeros(batch, H, d, d), like.new_zeros(batch, H, d), like.new_zeros(batch, H))

    def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        return self._update(*self._project(x), state)

    def scan(self, xs: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        r"""Every step of ``xs`` :math:`(B, T, \text{input\_size})` from ``state`` -> the outputs
        :math:`(B, T, \text{hidden\_size})` and the last state; the values of calling the cell
        step by step, computed for all steps at once in the mLSTM's parallel form (Beck et al.
        2024, appendix on the parallel mLSTM; NX-AI/xlstm's ``parallel_stabilized_simple``), here
        from a given state. With :math:`F_t = \sum_{u \le t} \log\sigma(\tilde f_u)` and
        :math:`(\mathbf{C}_0, \mathbf{n}_0, m_0)` the state given:

        .. math::
            \tilde D_{ts} &= F_t - F_s + \tilde i_s \ (s \le t), \quad
            m_t = \max\big(F_t + m_0,\ \max_{s \le t} \tilde D_{ts}\big), \quad
            D_{ts} = e^{\tilde D_{ts} - m_t}, \quad g_t = e^{F_t + m_0 - m_t} \\
            \mathbf{h}_t &= \sigma(\mathbf{W}_o \mathbf{x}_t) \odot
            \frac{\sum_s D_{ts} (\mathbf{k}_s^\top \mathbf{q}_t) \mathbf{v}_s + g_t \mathbf{C}_0 \mathbf{q}_t}
                 {\max\big(|\sum_s D_{ts} \mathbf{k}_s^\top \mathbf{q}_t + g_t \mathbf{n}_0^\top \mathbf{q}_t|,\ e^{-m_t}\big)}

        :math:`m_t` is the recurrent stabiliser unrolled, and the last state is
        :math:`\mathbf{C}_T = g_T \mathbf{C}_0 + \sum_s D_{Ts} \mathbf{v}_s \mathbf{k}_s^\top`,
        :math:`\mathbf{n}_T = g_T \mathbf{n}_0 + \sum_s D_{Ts} \mathbf{k}_s`, :math:`m_T`. It holds
        :math:`(B, H, T, T)` weights: :class:`XLSTMBlock` gives it segments of at most
        :data:`SEGMENT_STEPS` steps."""
        C0, n0, m0 = state
        q, k, v, i, f, o = self._project(xs)
        B, T, H, d = q.shape
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))                          # [B, H, T, d]
        forget = F.logsigmoid(f).transpose(1, 2).cumsum(-1)                       # F_t, [B, H, T]
        log_d = forget.unsqueeze(-1) - forget.unsqueeze(-2) + i.transpose(1, 2).unsqueeze(-2)   # [B, H, T, T]
        causal = torch.ones(T, T, dtype=torch.bool, device=xs.device).tril()
        log_d = log_d.masked_fill(~causal, float("-inf"))
        from_state = forget + m0.unsqueeze(-1)                                    # F_t + m_0
        m = torch.maximum(log_d.amax(-1), from_state)                             # [B, H, T]
        weights = (q @ k.transpose(-1, -2)) * torch.exp(log_d - m.unsqueeze(-1))  # D_ts k_s.q_t
        g = torch.exp(from_state - m).unsqueeze(-1)                               # [B, H, T, 1]
        numerator = weights @ v + g * (q @ C0.transpose(-1, -2))
        denominator = torch.maximum((weights.sum(-1, keepdim=True) + g * (q @ n0.unsqueeze(-1))).abs(),
                                    torch.exp(-m).unsqueeze(-1))
        h = torch.sigmoid(o) * (numerator / denominator).transpose(1, 2).reshape(B, T, H * d)
        last = torch.exp(log_d[:, :, -1] - m[:, :, -1:]).unsqueeze(-1)            # D_Ts, [B, H, T, 1]
        C = g[:, :, -1:] * C0 + (v * last).transpose(-1, -2) @ k
        n = g[:, :, -1] * n0 + (k * last).sum(2)
        return h, (C, n, m[:, :, -1])

    def _project(self, x: Tensor) -> tuple[Tensor, ...]:
        r"""``x`` :math:`(*, \text{input\_size})` -> q, k (scaled), v :math:`(*, H, d)`; the
        gates' pre-activations :math:`(*, H)` each; the output gate's :math:`(*, H d)`."""
        H, d = self.heads, self.head_dim
        q, k, v = (t.unflatten(-1, (H, d)) for t in self.qkv(x).chunk(3, dim=-1))
        i, f = self.gates(x).chunk(2, dim=-1)
        return q, k / math.sqrt(d), v, i, f, self.output_gate(x)

    def _update(self, q: Tensor, k: Tensor, v: Tensor, i: Tensor, f: Tensor, o: Tensor,
                state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        """The step from one step's projections (:meth:`_project`)."""
        C, n, m = state
        B, H, d = q.shape
        log_f = F.logsigmoid(f)
        m_new = torch.maximum(log_f + m, i)
        i_gate, f_gate = torch.exp(i - m_new), torch.exp(log_f + m - m_new)
        C = f_gate[..., None, None] * C + i_gate[..., None, None] * v.unsqueeze(-1) * k.unsqueeze(-2)
        n = f_gate[..., None] * n + i_gate[..., None] * k
        numerator = (C @ q.unsqueeze(-1)).squeeze(-1)                         # [B, H, d]
        denominator = torch.maximum((n * q).sum(-1).abs(), torch.exp(-m_new)).unsqueeze(-1)
        h = torch.sigmoid(o) * (numerator / denominator).reshape(B, H * d)
        return h, (C, n, m_new)


def _reverse_within(padded: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of ``[B, L, D]`` within its own length (padding stays at the end)."""
    L = padded.size(1)
    positions = torch.arange(L, device=padded.device).unsqueeze(0)
    index = torch.where(positions < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - positions, positions)
    return padded.gather(1, index.unsqueeze(-1).expand_as(padded))


class XLSTMBlock(torch.nn.Module):
    r"""Pre-LayerNorm residual block: :math:`\mathbf{x} + \mathbf{W}_{down}\,\mathrm{cell}(\mathrm{GELU}(\mathbf{W}_{up}\mathrm{LN}(\mathbf{x})))`,
    the cell run over each sequence (both directions, summed, when ``bidirectional``).

    Args:
        channels: feature size :math:`D` (input and output).
        kind: ``"m"`` (mLSTM cell) or ``"s"`` (sLSTM cell).
        expansion: the cell's width as a multiple of ``channels`` (:math:`\mathbf{W}_{up}`).
        heads: mLSTM memory heads.
        bidirectional: also run the cell backwards within each sequence, summed.

    Shapes:
        - **input:** ``padded`` :math:`(B, L, D)`; ``lengths`` :math:`(B)` (padding after them)
        - **output:** :math:`(B, L, D)`

    Example:
        >>> import torch
        >>> padded, lengths = torch.randn(2, 4, 16), torch.tensor([4, 2])   # [B, L, C] and real lengths
        >>> XLSTMBlock(16, kind="s", heads=2)(padded, lengths).shape
        torch.Size([2, 4, 16])
    """

    def __init__(self, channels: int, kind: str = "m", expansion: int = 2, heads: int = 4,
                 bidirectional: bool = False):
        super().__init__()
        if kind not in ("s", "m"):
            raise ValueError(f"kind must be 's' (sLSTM) or 'm' (mLSTM), got {kind!r}")
        inner = expansion * channels
        self.norm = torch.nn.LayerNorm(channels)
        self.up = torch.nn.Linear(channels, inner)
        make = (lambda: SLSTMCell(inner, inner)) if kind == "s" else (lambda: MLSTMCell(inner, inner, heads))
        self.cells = torch.nn.ModuleList(make() for _ in range(2 if bidirectional else 1))
        self.down = torch.nn.Linear(inner, channels)

    @staticmethod
    def _steps(cell: torch.nn.Module, seq: Tensor, *state: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        return cell.scan(seq, state)                 # all dialogues at once

    def _run(self, cell: torch.nn.Module, seq: Tensor) -> Tensor:
        state = cell.initial_state(seq.size(0), seq)
        if seq.size(1) <= SEGMENT_STEPS:
            return self._steps(cell, seq, *state)[0]
        outputs = []
        for start in range(0, seq.size(1), SEGMENT_STEPS):                  # same values, bounded memory
            segment = seq[:, start:start + SEGMENT_STEPS]
            out, state = (checkpoint(self._steps, cell, segment, *state, use_reentrant=False)
                          if torch.is_grad_enabled() else self._steps(cell, segment, *state))
            outputs.append(out)
        return torch.cat(outputs, dim=1)

    def forward(self, padded: Tensor, lengths: Tensor) -> Tensor:
        seq = F.gelu(self.up(self.norm(padded)))
        out = self._run(self.cells[0], seq)
        if len(self.cells) == 2:
            out = out + _reverse_within(self._run(self.cells[1], _reverse_within(seq, lengths)), lengths)
        return padded + self.down(out)


class XLSTM(torch.nn.Module):
    r"""A stack of :class:`XLSTMBlock` s over each dialogue: a node-feature transform.

    ``forward(x [N, D], batch [N]) -> [N, D]``; dialogues are padded
    internally, padding comes after every real utterance (and backward passes
    reverse each dialogue within its own length), so padding never changes a
    result. ``blocks`` is a string of cell kinds, e.g. ``"ms"`` = an mLSTM
    block then an sLSTM block.

    Args:
        channels: feature size :math:`D` (input and output).
        blocks: the blocks' cell kinds in order, e.g. ``"ms"``.
        expansion: each cell's width as a multiple of ``channels``.
        heads: mLSTM memory heads.
        bidirectional: every block also runs backwards within each dialogue.

    Shapes:
        - **input:** ``x`` :math:`(N, D)`; ``batch`` :math:`(N)` (optional)
        - **output:** :math:`(N, D)`

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> XLSTM(16, blocks="ms", heads=2)(torch.randn(5, 16), batch).shape   # an mLSTM then an sLSTM block
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, blocks: str = "ms", expansion: int = 2, heads: int = 4,
                 bidirectional: bool = False):
        super().__init__()
        self.blocks = torch.nn.ModuleList(XLSTMBlock(channels, kind, expansion, heads, bidirectional)
                                          for kind in blocks)
        self.norm = torch.nn.LayerNorm(channels)

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        padded, mask = to_padded(x, batch)
        lengths = mask.sum(1)
        for block in self.blocks:
            padded = block(padded, lengths)
        return self.norm(from_padded(padded, mask))
