"""The ViL block: Vision-LSTM's pre-norm mLSTM block on a 1-D sequence.

Reference: Benedikt Alkin, Maximilian Beck, Korbinian Pöppel, Sepp Hochreiter, Johannes Brandstetter,
"Vision-LSTM: xLSTM as Generic Vision Backbone", arXiv:2406.04303 (2024); the block is the mLSTM
block of Beck et al., "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024 (fig. 10).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def parallel_mlstm(q: Tensor, k: Tensor, v: Tensor, i: Tensor, f: Tensor, eps: float = 1e-6) -> Tensor:
    r"""The mLSTM over whole sequences at once, from a zero state (Beck et al. 2024, parallel form).

    With :math:`F_t = \sum_{u \le t} \log\sigma(\tilde f_u)`,
    :math:`\tilde D_{ts} = F_t - F_s + \tilde i_s` for :math:`s \le t` and
    :math:`m_t = \max_s \tilde D_{ts}`:

    .. math::
        C_{ts} = \frac{\mathbf{q}_t^\top \mathbf{k}_s}{\sqrt{d}}\, e^{\tilde D_{ts} - m_t},\qquad
        \mathbf{h}_t = \frac{\sum_{s \le t} C_{ts} \mathbf{v}_s}
            {\max\big(|\sum_{s \le t} C_{ts}|,\ e^{-m_t}\big) + \epsilon}

    the step-by-step mLSTM's output (its stabiliser unrolled) for every step.

    Shapes: ``q``, ``k``, ``v`` :math:`(B, H, S, d)`, ``i``, ``f`` :math:`(B, H, S)` -> :math:`(B, H, S, d)`.

    Example:
        One step: the output is the value, scaled by :math:`|\mathbf{q}^\top\mathbf{k}| / \sqrt{d}` over
        its maximum with :math:`e^{-\tilde i}`:

        >>> q = k = torch.ones(1, 1, 1, 4)
        >>> v = torch.arange(4.0).view(1, 1, 1, 4)
        >>> parallel_mlstm(q, k, v, torch.zeros(1, 1, 1), torch.zeros(1, 1, 1)).flatten().round(decimals=4)
        tensor([0., 1., 2., 3.])
    """
    S = q.size(2)
    forget = F.logsigmoid(f).cumsum(-1)                                          # F_t
    log_d = forget.unsqueeze(-1) - forget.unsqueeze(-2) + i.unsqueeze(-2)       # [B, H, S, S]
    causal = torch.ones(S, S, dtype=torch.bool, device=q.device).tril()
    log_d = log_d.masked_fill(~causal, float("-inf"))
    m = log_d.amax(-1, keepdim=True)
    weights = (q @ k.transpose(-1, -2)) / math.sqrt(q.size(-1)) * torch.exp(log_d - m)
    normaliser = torch.maximum(weights.sum(-1, keepdim=True).abs(), torch.exp(-m))
    return weights / (normaliser + eps) @ v


class ViLBlock(torch.nn.Module):
    r"""Vision-LSTM's block (github NX-AI/vision-lstm, ``vision_lstm.ViLBlock`` with its
    ``ViLLayer``) on a causal 1-D sequence:

    .. math::
        \mathbf{u}, \mathbf{z} &= \mathbf{W}_{up}\,\mathrm{LN}(\mathbf{x}) \in \mathbb{R}^{2 \cdot e D},\qquad
        \mathbf{c} = \mathrm{SiLU}(\mathrm{CausalConv}_4(\mathbf{u})) \\
        \mathbf{h} &= \mathrm{GN}\big(\mathrm{mLSTM}(\mathbf{q} = \mathbf{W}_q \mathbf{c},\
            \mathbf{k} = \mathbf{W}_k \mathbf{c},\ \mathbf{v} = \mathbf{W}_v \mathbf{u})\big) \\
        \mathbf{y} &= \mathbf{x} + \mathbf{W}_{down}\big((\mathbf{h} + \mathbf{s} \odot \mathbf{c})
            \odot \mathrm{SiLU}(\mathbf{z})\big)

    with :math:`e` = ``expansion``; :math:`\mathbf{W}_{q,k,v}` block-diagonal with blocks of
    ``qkv_block_size``; the mLSTM's input and forget gates linear in
    :math:`[\mathbf{q}; \mathbf{k}; \mathbf{v}]`, with ``cell_heads`` heads
    (:func:`parallel_mlstm`); GN a per-head LayerNorm; :math:`\mathbf{s}` the
    learnable skip. As the released block: no biases in the projections, the
    LayerNorms' weights stored as offsets from 1, and its initialisation
    (``reset_parameters``). The sequence is causal (the block's ``direction``
    "rowwise from top left"; the convolution of kernel 4 is causal).

    Args:
        channels: width :math:`D` of the block's input and output.
        expansion: up-projection factor :math:`e`.
        qkv_block_size: block size of the query / key / value projections and number of mLSTM heads.
        kernel_size: width of the causal convolution.

    Shapes: ``x`` :math:`(B, S, D)` -> :math:`(B, S, D)`.

    Example:
        >>> block = ViLBlock(8)
        >>> x = torch.randn(3, 5, 8)
        >>> y = block(x)
        >>> y.shape, torch.allclose(block(x[:, :2]), y[:, :2], atol=1e-6)      # causal
        (torch.Size([3, 5, 8]), True)
    """

    def __init__(self, channels: int, expansion: int = 2, qkv_block_size: int = 4, kernel_size: int = 4):
        super().__init__()
        inner = expansion * channels
        if inner % qkv_block_size:
            raise ValueError(f"expansion x channels = {inner} must split into blocks of {qkv_block_size}")
        self.channels, self.inner, self.block, self.heads = channels, inner, qkv_block_size, qkv_block_size
        self.norm_weight = torch.nn.Parameter(torch.zeros(channels))         # LN weight - 1
        self.up = torch.nn.Linear(channels, 2 * inner, bias=False)
        self.conv = torch.nn.Conv1d(inner, inner, kernel_size, padding=kernel_size - 1, groups=inner)
        blocks = inner // qkv_block_size
        self.qkv = torch.nn.Parameter(torch.empty(3, blocks, qkv_block_size, qkv_block_size))
        self.input_gate = torch.nn.Linear(3 * inner, self.heads)
        self.forget_gate = torch.nn.Linear(3 * inner, self.heads)
        self.head_norm_weight = torch.nn.Parameter(torch.zeros(inner))      # GN weight - 1
        self.skip = torch.nn.Parameter(torch.ones(inner))
        self.down = torch.nn.Linear(inner, channels, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The released initialisation: small-init up / q / k / v, Wang-init down, forget-gate bias
        linearly 3..6, input-gate bias N(0, 0.1), gate weights zero."""
        small = math.sqrt(2 / (5 * self.channels))
        torch.nn.init.normal_(self.up.weight, std=small)
        torch.nn.init.normal_(self.qkv, std=small)
        torch.nn.init.normal_(self.down.weight, std=2 / math.sqrt(self.channels))
        self.conv.reset_parameters()
        torch.nn.init.zeros_(self.input_gate.weight)
        torch.nn.init.normal_(self.input_gate.bias, std=0.1)
        torch.nn.init.zeros_(self.forget_gate.weight)
        with torch.no_grad():
            self.forget_gate.bias.copy_(torch.linspace(3.0, 6.0, self.heads))
        torch.nn.init.zeros_(self.norm_weight)
        torch.nn.init.zeros_(self.head_norm_weight)
        torch.nn.init.ones_(self.skip)

    def _blockwise(self, x: Tensor, which: int) -> Tensor:
        blocks = x.unflatten(-1, (-1, self.block))                           # [..., blocks, block]
        return torch.einsum("...hd,hod->...ho", blocks, self.qkv[which]).flatten(-2)

    def forward(self, x: Tensor) -> Tensor:
        B, S, _ = x.shape
        u, z = self.up(F.layer_norm(x, (self.channels,), 1.0 + self.norm_weight)).chunk(2, dim=-1)
        c = F.silu(self.conv(u.transpose(1, 2))[..., :S].transpose(1, 2))
        q, k, v = self._blockwise(c, 0), self._blockwise(c, 1), self._blockwise(u, 2)
        gates_in = torch.cat([q, k, v], dim=-1)
        i, f = self.input_gate(gates_in).transpose(1, 2), self.forget_gate(gates_in).transpose(1, 2)

        def heads(t: Tensor) -> Tensor:
            return t.unflatten(-1, (self.heads, -1)).transpose(1, 2)              # [B, H, S, d]

        h = parallel_mlstm(heads(q), heads(k), heads(v), i, f)
        h = F.group_norm(h.transpose(1, 2).reshape(B * S, self.inner), self.heads, 1.0 + self.head_norm_weight,
                         eps=1e-5).view(B, S, self.inner)
        return x + self.down((h + self.skip * c) * F.silu(z))
