"""Cross-modal guided gating and third-modality-guided bimodal fusion (a reading of CMGFE)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


class CrossModalGuidedGate(torch.nn.Module):
    r"""Strengthens one modality's features with a gate computed together with the others.

    .. math::
        \mathbf{c}_m = \frac{1}{|M| - 1}\sum_{k \ne m} \mathbf{x}_k,\quad
        \mathbf{g}_m = \sigma(\mathbf{W}_m [\mathbf{x}_m; \mathbf{c}_m] + \mathbf{b}_m),\quad
        \tilde{\mathbf{x}}_m = \mathrm{LN}(\mathbf{x}_m + \mathbf{g}_m \odot \mathbf{x}_m)

    (CMGFE abstract: "a cross-modal guided gating mechanism is designed to
    strengthen single-modality features"). With a single modality there is no
    guide and the features pass through the LayerNorm only.

    Args:
        channels: feature size :math:`d` (the same for every modality).
        modalities: the modality names it will receive (one gate each).

    Shapes:
        - **input:** ``features``: modality -> :math:`(N, d)`
        - **output:** the strengthened features, modality -> :math:`(N, d)`, and the gates
          :math:`\mathbf{g}_m`, modality -> :math:`(N, d)` (none for a lone modality)

    Example:
        >>> import torch
        >>> features = {m: torch.randn(5, 16) for m in ("text", "audio", "visual")}
        >>> out, gates = CrossModalGuidedGate(16, ("text", "audio", "visual"))(features)
        >>> out["audio"].shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, modalities: tuple[str, ...]):
        super().__init__()
        self.gate = torch.nn.ModuleDict({m: torch.nn.Linear(2 * channels, channels) for m in modalities})
        self.norm = torch.nn.ModuleDict({m: torch.nn.LayerNorm(channels) for m in modalities})

    def forward(self, features: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        out, gates = {}, {}
        for m, x in features.items():
            others = [v for k, v in features.items() if k != m]
            if not others:
                out[m] = self.norm[m](x)
                continue
            guide = torch.stack(others).mean(0)
            gates[m] = g = torch.sigmoid(self.gate[m](torch.cat([x, guide], dim=-1)))
            out[m] = self.norm[m](x + g * x)
        return out, gates


class GuidedBimodalFusion(torch.nn.Module):
    r"""Fuses a pair of modalities under a gate conditioned on the third.

    .. math::
        \mathbf{b}_{ab} = \mathrm{LN}\big(\sigma(\mathbf{W}_g [\tilde{\mathbf{x}}_a; \tilde{\mathbf{x}}_b;
        \tilde{\mathbf{x}}_c] + \mathbf{b}_g) \odot \mathrm{GELU}(\mathbf{W} [\tilde{\mathbf{x}}_a;
        \tilde{\mathbf{x}}_b] + \mathbf{b})\big)

    (CMGFE abstract: "utilize a third modality to improve bimodal feature
    fusion"). Without a third modality the gate reads the pair only.

    Args:
        channels: feature size :math:`d` of each modality and of the output.
        guided: the gate also reads the third modality :math:`\tilde{\mathbf{x}}_c` (``guide``).

    Shapes:
        - **input:** ``a``, ``b`` :math:`(N, d)`; ``guide`` :math:`(N, d)` when ``guided``
        - **output:** the fused pair :math:`(N, d)` and the gate :math:`(N, d)`

    Example:
        >>> import torch
        >>> fused, gate = GuidedBimodalFusion(16, guided=True)(torch.randn(5, 16), torch.randn(5, 16), torch.randn(5, 16))
        >>> fused.shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, guided: bool):
        super().__init__()
        self.fuse = torch.nn.Linear(2 * channels, channels)
        self.gate = torch.nn.Linear((3 if guided else 2) * channels, channels)
        self.norm = torch.nn.LayerNorm(channels)
        self.guided = guided

    def forward(self, a: Tensor, b: Tensor, guide: Tensor | None = None) -> tuple[Tensor, Tensor]:
        pair = torch.cat([a, b], dim=-1)
        gate = torch.sigmoid(self.gate(torch.cat([pair, guide], dim=-1) if self.guided else pair))
        return self.norm(gate * F.gelu(self.fuse(pair))), gate
