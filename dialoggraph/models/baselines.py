"""Small context-free and sequential baselines on the same features."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import check_modalities, register
from dialoggraph.nn.seq.dialogue_gru import DialogueGRU


@dataclass
class BaselineConfig:
    hidden: int = 256
    dropout: float = 0.3
    modalities: tuple[str, ...] = ("text",)
    lr: float = 1e-3
    weight_decay: float = 1e-5


def _features(batch: HeteroData, modalities: tuple[str, ...]) -> torch.Tensor:
    return torch.cat([batch[NODE][f"x_{m}"] for m in modalities], dim=-1)


def _check(modalities: tuple[str, ...], in_dims: dict[str, int], name: str) -> int:
    return sum(in_dims[m] for m in check_modalities(name, modalities, in_dims))


@register("mlp")
class UtteranceMLP(torch.nn.Module):
    """Per-utterance MLP on the concatenated modalities: no context at all."""

    Config = BaselineConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__()
        self.config = config = config or BaselineConfig()
        in_dim = _check(config.modalities, in_dims, "MLP")
        self.net = torch.nn.Sequential(torch.nn.Linear(in_dim, config.hidden), torch.nn.ReLU(),
                                       torch.nn.Dropout(config.dropout), torch.nn.Linear(config.hidden, num_classes))

    def forward(self, batch: HeteroData) -> ModelOutput:
        return ModelOutput(self.net(_features(batch, self.config.modalities)))


@register("bigru")
class BiGRU(torch.nn.Module):
    """A bidirectional GRU over each dialogue, then a linear classifier per utterance."""

    Config = BaselineConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__()
        self.config = config = config or BaselineConfig()
        in_dim = _check(config.modalities, in_dims, "BiGRU")
        self.gru = DialogueGRU(in_dim, config.hidden)
        self.dropout = torch.nn.Dropout(config.dropout)
        self.out = torch.nn.Linear(config.hidden, num_classes)

    def forward(self, batch: HeteroData) -> ModelOutput:
        x = self.dropout(_features(batch, self.config.modalities))
        return ModelOutput(self.out(self.dropout(self.gru(x, batch[NODE].get("batch")))))
