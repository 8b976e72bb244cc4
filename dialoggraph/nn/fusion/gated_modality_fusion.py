"""MDGET-MER's gated modality fusion and gated emotion classifier (eqs. 23-30)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from dialoggraph.nn.dropout import dropout


class GatedModalityFusion(torch.nn.Module):
    r"""Gated fusion of per-modality features (MDGET-MER eqs. 23-25).

    .. math::
        G_m = \sigma(W_g^m [H^{m_1}; \dots; H^{m_M}] + b_g^m) \in [0, 1]^{N \times M},\quad
        H_{gate} = \sum_k G_m^{m_k} \odot H^{m_k},\quad
        H = [H^{m_1}; \dots; H^{m_M}; H_{gate}]

    ``gates=False`` sets every weight to 1 (the ablation). Output size ``(M + 1) d``.

    Args:
        channels: feature size :math:`d` of every modality.
        num_modalities: :math:`M`.
        gates: learn the gates :math:`G_m` (False: all 1).

    Shapes:
        - **input:** a list of :math:`M` tensors :math:`(N, d)`
        - **output:** :math:`H` :math:`(N, (M + 1) d)` and the gates :math:`(N, M)`

    Example:
        >>> import torch
        >>> fused, weights = GatedModalityFusion(16, 3)([torch.randn(5, 16) for _ in range(3)])
        >>> fused.shape, weights.shape                     # (M + 1) d = 64; one gate per modality
        (torch.Size([5, 64]), torch.Size([5, 3]))
    """

    def __init__(self, channels: int, num_modalities: int, gates: bool = True):
        super().__init__()
        self.gate = torch.nn.Linear(num_modalities * channels, num_modalities)
        self.gates = gates

    def forward(self, features: list[Tensor]) -> tuple[Tensor, Tensor]:
        stacked = torch.stack(features, dim=1)                                    # [N, M, d]
        weights = torch.sigmoid(self.gate(stacked.flatten(1))) if self.gates else \
            stacked.new_ones(stacked.shape[:2])                                   # eq. 23
        fused = (weights.unsqueeze(-1) * stacked).sum(1)                          # eq. 24
        return torch.cat([stacked.flatten(1), fused], dim=-1), weights            # eq. 25


class GatedClassifier(torch.nn.Module):
    r"""The gated enhanced emotion classifier (MDGET-MER eqs. 26-29).

    .. math::
        G_f = \sigma(W_g^f h_i + b_g^f),\quad
        l_i = \mathrm{dropout}(\mathrm{ReLU}(W_l (G_f \odot h_i))),\quad
        y'_i = \operatorname{softmax}(W_{smax} l_i)

    Returns logits (the softmax is the loss's). ``gate=False`` sets :math:`G_f = 1`.

    Args:
        in_channels: size of :math:`h_i`.
        hidden: size of :math:`l_i`.
        num_classes: number of emotions.
        dropout: dropout on :math:`l_i`.
        gate: learn :math:`G_f` (False: 1).

    Shapes:
        - **input:** :math:`(N, \text{in\_channels})`
        - **output:** logits :math:`(N, \text{num\_classes})`

    Example:
        >>> import torch
        >>> GatedClassifier(64, 32, 7)(torch.randn(5, 64)).shape
        torch.Size([5, 7])
    """

    def __init__(self, in_channels: int, hidden: int, num_classes: int, dropout: float = 0.1, gate: bool = True):
        super().__init__()
        self.gate = torch.nn.Linear(in_channels, in_channels)
        self.hidden = torch.nn.Linear(in_channels, hidden)
        self.out = torch.nn.Linear(hidden, num_classes)
        self.dropout = dropout
        self.use_gate = gate

    def forward(self, h: Tensor) -> Tensor:
        if self.use_gate:
            h = torch.sigmoid(self.gate(h)) * h                                   # eqs. 26-27
        return self.out(dropout(F.relu(self.hidden(h)), self.dropout, self.training))   # eqs. 28-29
