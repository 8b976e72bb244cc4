"""A sigmoid feature gate."""
from __future__ import annotations

import torch
from torch import Tensor


class FeatureGate(torch.nn.Module):
    r""":math:`\mathbf{x} \odot \sigma(\mathbf{W}\mathbf{x} + \mathbf{b})`: each feature scaled by a
    gate in [0, 1] computed from the utterance's own features.

    Args:
        channels: feature size :math:`d`.

    Shapes:
        - **input:** :math:`(N, d)`
        - **output:** :math:`(N, d)`

    Example:
        >>> import torch
        >>> FeatureGate(16)(torch.randn(5, 16)).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int):
        super().__init__()
        self.linear = torch.nn.Linear(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(self.linear(x))
