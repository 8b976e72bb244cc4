"""Small context-free and sequential baselines on the same features."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.base import DialogueModel, ModelConfig
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import register
from dialoggraph.nn.seq.dialogue_gru import DialogueGRU


@dataclass
class BaselineConfig(ModelConfig):
    """Hyper-parameters of the baselines."""

    hidden: int = 256
    """Hidden width (the MLP's layer, the GRU's state)."""
    dropout: float = 0.3
    """Dropout on the input and before the classifier."""
    modalities: tuple[str, ...] = ("text",)
    """The modalities read, concatenated."""

    renamed = {"lr": None, "weight_decay": None}


class _Baseline(DialogueModel):
    Config = BaselineConfig
    optimizer = {"lr": 1e-3, "weight_decay": 1e-5}

    def features(self, batch: HeteroData) -> torch.Tensor:
        """The concatenated input features of the configured modalities."""
        return torch.cat([batch[NODE][f"x_{m}"] for m in self.modalities], dim=-1)


@register("mlp")
class UtteranceMLP(_Baseline):
    """Per-utterance MLP on the concatenated modalities: no context at all."""

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        c = self.config
        self.net = torch.nn.Sequential(torch.nn.Linear(sum(in_dims[m] for m in self.modalities), c.hidden),
                                       torch.nn.ReLU(), torch.nn.Dropout(c.dropout),
                                       torch.nn.Linear(c.hidden, num_classes))

    def forward(self, batch: HeteroData) -> ModelOutput:
        return ModelOutput(self.net(self.features(batch)))


@register("bigru")
class BiGRU(_Baseline):
    """A bidirectional GRU over each dialogue, then a linear classifier per utterance."""

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        c = self.config
        self.gru = DialogueGRU(sum(in_dims[m] for m in self.modalities), c.hidden)
        self.dropout = torch.nn.Dropout(c.dropout)
        self.out = torch.nn.Linear(c.hidden, num_classes)

    def forward(self, batch: HeteroData) -> ModelOutput:
        x = self.dropout(self.features(batch))
        return ModelOutput(self.out(self.dropout(self.gru(x, batch[NODE].get("batch")))))
