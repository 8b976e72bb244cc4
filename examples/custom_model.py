"""Build your own model from dialoggraph's blocks and train it, in a script or a notebook.

    python examples/custom_model.py                  # trains on the embedded synthetic data (< 1 minute)

    # the same model from the command line, found by its import path:
    PYTHONPATH=examples dialoggraph train --model custom_model:ContextGraphGRU --hidden 64 --epochs 8

The model: per modality a bidirectional GRU over each dialogue (context), one DiffRGAT
block on the inter-speaker subgraph (who answers whom), then MDGET-MER's gated fusion
of the modalities and a linear classifier. Everything it needs from the library is the
contract of :class:`dialoggraph.models.DialogueModel`: a typed, documented ``Config``,
``required_transform`` (the edges, built once per dialogue) and ``forward`` returning a
:class:`~dialoggraph.models.ModelOutput`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch_geometric.data import HeteroData

from dialoggraph.data import INTER, NODE
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import DialogueModel, ModelConfig, ModelOutput
from dialoggraph.nn import DialogueGRU, DiffRGATBlock, GatedModalityFusion
from dialoggraph.train import TrainConfig, Trainer
from dialoggraph.transforms import SpeakerWindowGraph


@dataclass
class ContextGraphGRUConfig(ModelConfig):
    """Hyper-parameters of :class:`ContextGraphGRU` (each becomes a command-line option)."""

    hidden: int = 64
    """Width of the GRU states and the graph block."""
    window: int = 3
    """Speaker-window size of the inter-speaker subgraph."""
    dropout: float = 0.2
    """Dropout before the classifier."""


class ContextGraphGRU(DialogueModel):
    """A DialogueGRU per modality, one DiffRGAT block on the inter-speaker edges, gated fusion."""

    Config = ContextGraphGRUConfig
    optimizer = {"lr": 3e-3, "weight_decay": 1e-5}

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: ContextGraphGRUConfig | None = None):
        super().__init__(in_dims, num_classes, config)      # sets self.config, self.modalities (checked)
        h = self.config.hidden
        self.context = torch.nn.ModuleDict({m: DialogueGRU(in_dims[m], h) for m in self.modalities})
        self.graph = torch.nn.ModuleDict({m: DiffRGATBlock(h, heads=2) for m in self.modalities})
        self.fusion = GatedModalityFusion(h, len(self.modalities))
        self.classifier = torch.nn.Sequential(torch.nn.Dropout(self.config.dropout),
                                              torch.nn.Linear((len(self.modalities) + 1) * h, num_classes))

    @classmethod
    def required_transform(cls, config: ContextGraphGRUConfig) -> SpeakerWindowGraph:
        return SpeakerWindowGraph(config.window, config.window)

    def forward(self, batch: HeteroData) -> ModelOutput:
        store = batch[NODE]
        features = []
        for m in self.modalities:
            x = self.context[m](store[f"x_{m}"], store.get("batch"))
            features.append(self.graph[m](x, batch[INTER].edge_index, batch[INTER].edge_rel))
        fused, weights = self.fusion(features)
        return ModelOutput(self.classifier(fused), attention={"modality_gates": weights})


def main() -> None:
    config = ContextGraphGRUConfig()
    graphs = ContextGraphGRU.required_transform(config)
    train, dev, test = (SyntheticDialogues(n, split, pre_transform=graphs)
                        for n, split in ((400, "train"), (100, "dev"), (100, "test")))
    model = ContextGraphGRU(train.meta["feature_dims"], train.num_classes, config)
    trainer = Trainer(model, train, dev, TrainConfig(epochs=8, batch_size=16, patience=4, seed=0),
                      out_dir="runs/custom_model", overwrite=True)  # replaced on each run
    result = trainer.fit(test)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; best dev epoch {result['best_epoch']}: "
          f"dev wF1 {result['val']['weighted_f1'] * 100:.2f}, test wF1 {result['test']['weighted_f1'] * 100:.2f}")


if __name__ == "__main__":
    main()
