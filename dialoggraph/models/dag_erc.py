"""DAG-ERC (Shen et al., ACL 2021): a stack of DAGConv layers on the dialogue DAG."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import check_modalities, register
from dialoggraph.nn.conv.dag_conv import DAGConv, DAGSchedule
from dialoggraph.transforms.dag_graph import DAG, DAGGraph


@dataclass
class DAGERCConfig:
    """DAG-ERC's hyper-parameters (defaults: the paper's IEMOCAP setting as we read it:
    hidden 300, 4 layers, ``mlp_layers=2`` hidden layers in the output MLP, dropout 0.2,
    one same-speaker turn back)."""

    hidden: int = 300
    num_layers: int = 4
    mlp_layers: int = 2
    dropout: float = 0.2
    same_speaker_window: int = 1
    modalities: tuple[str, ...] = ("text",)
    lr: float = 5e-4
    weight_decay: float = 0.0


@register("dag_erc")
class DAGERC(torch.nn.Module):
    r"""DAG-ERC on fused (concatenated) or single-modality utterance features.

    .. math::
        \mathbf{H}^0 = \mathrm{ReLU}(\mathbf{W}_0 [\mathbf{x}^{m_1}; \dots]),\quad
        \mathbf{H}^l = \mathrm{DAGConv}_l(\mathbf{H}^{l-1}),\quad
        \hat{y} = \mathrm{MLP}([\mathbf{H}^0; \dots; \mathbf{H}^L; \mathbf{x}])

    with the authors' output MLP (github shenwzh3/DAG-ERC, ``DAGERC_fushion.out_mlp``):
    ``mlp_layers`` times Linear-ReLU, then Dropout, then the output Linear
    (``mlp_layers=2``: Linear-ReLU-Linear-ReLU-Dropout-Linear). As in that code,
    dropout acts only there: not on :math:`\mathbf{H}^0` nor between the DAG layers.

    The batch must carry the ``dag`` edge store (:class:`~dialoggraph.transforms.DAGGraph`
    as the dataset's ``pre_transform``; :attr:`pre_transform` gives the right one).

    Args:
        in_dims: feature size per modality (of the dataset).
        num_classes: number of emotions.
        config: :class:`DAGERCConfig`; ``config.modalities`` is any non-empty subset
            of ``in_dims``.
    """

    Config = DAGERCConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: DAGERCConfig | None = None):
        super().__init__()
        self.config = config = config or DAGERCConfig()
        check_modalities("DAG-ERC", config.modalities, in_dims)
        in_dim = sum(in_dims[m] for m in config.modalities)
        self.input = torch.nn.Linear(in_dim, config.hidden)
        self.layers = torch.nn.ModuleList(DAGConv(config.hidden) for _ in range(config.num_layers))
        width = config.hidden * (config.num_layers + 1) + in_dim
        mlp: list[torch.nn.Module] = []
        for _ in range(config.mlp_layers):
            mlp += [torch.nn.Linear(width, config.hidden), torch.nn.ReLU()]
            width = config.hidden
        mlp += [torch.nn.Dropout(config.dropout), torch.nn.Linear(width, num_classes)]
        self.classifier = torch.nn.Sequential(*mlp)

    @staticmethod
    def required_transform(config: DAGERCConfig) -> DAGGraph:
        """The dataset ``pre_transform`` that builds the edges this model reads."""
        return DAGGraph(config.same_speaker_window)

    @property
    def pre_transform(self) -> DAGGraph:
        return self.required_transform(self.config)

    def forward(self, batch: HeteroData) -> ModelOutput:
        store = batch[NODE]
        if DAG not in batch.edge_types:
            raise ValueError("DAG-ERC needs the 'dag' edges: build the dataset with "
                             f"pre_transform={self.pre_transform!r}")
        x = torch.cat([store[f"x_{m}"] for m in self.config.modalities], dim=-1)
        edge_index, same = batch[DAG].edge_index, batch[DAG].same_speaker
        node_batch = store.get("batch")
        schedule = DAGSchedule.build(edge_index, same, node_batch, x.size(0))  # once for all layers
        h = F.relu(self.input(x))
        states = [h]
        for layer in self.layers:
            h = layer(h, edge_index, same, node_batch, schedule=schedule)
            states.append(h)
        return ModelOutput(self.classifier(torch.cat(states + [x], dim=-1)))
