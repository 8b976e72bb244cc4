"""DAG-ERC: a stack of DAGConv layers on the dialogue DAG.

Reference: Weizhou Shen, Siyue Wu, Yunyan Yang, Xiaojun Quan, "Directed Acyclic Graph Network for
Conversational Emotion Recognition", Proceedings of ACL-IJCNLP 2021 (Volume 1: Long Papers),
pp. 1551-1560, DOI 10.18653/v1/2021.acl-long.123; code: https://github.com/shenwzh3/DAG-ERC.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch_geometric.data import HeteroData

from dialoggraph.data.dialogue import DAG, NODE
from dialoggraph.models.base import DROPOUT, DialogueModel, ModelConfig, PaperResult, Preset, WIDTHS
from dialoggraph.models.feature_files import DAGERC_IEMOCAP, DAGERC_MELD
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import register
from dialoggraph.nn.conv.dag_conv import DAGConv, DAGSchedule
from dialoggraph.transforms.dag_graph import DAGGraph
from dialoggraph.nn.dropout import Dropout

@dataclass
class DAGERCConfig(ModelConfig):
    """DAG-ERC's hyper-parameters. dialoggraph's defaults (hidden 128, 2 layers, input dropout
    0.3, lr 3e-4) were chosen on MELD's dev split (docs/defaults.md); preset
    ``paper`` / ``iemocap`` is the authors' IEMOCAP command (hidden 300, 4 layers, lr 5e-4,
    no input dropout), ``meld`` their MELD command (github shenwzh3/DAG-ERC)."""

    hidden: int = 128
    """Width of the DAG layers (the code's ``hidden_dim``)."""
    num_layers: int = 2
    """Number of DAGConv layers (the code's ``gnn_layers``: 4 on IEMOCAP, 2 otherwise)."""
    mlp_layers: int = 2
    """Hidden Linear-ReLU layers of the output MLP."""
    dropout: float = 0.2
    """Dropout before the output MLP's last layer (the code's only dropout)."""
    input_dropout: float = 0.3
    """The base field with another default; the dropped features are read by ``fc1`` and the
    output MLP (ours; the code has none: 0 is the paper's model)."""
    same_speaker_window: int = 1
    """Predecessors reach back to this many earlier turns of the target's own speaker."""
    modalities: tuple[str, ...] = ("text",)
    """The modalities the model reads, concatenated (DAG-ERC: text)."""

    renamed = {"lr": None, "weight_decay": None}
    search = {"hidden": WIDTHS, "dropout": DROPOUT}


PAPER = {"hidden": 300, "num_layers": 4, "dropout": 0.2, "input_dropout": 0.0}
"""The authors' values (github shenwzh3/DAG-ERC, IEMOCAP) of the fields whose defaults are dialoggraph's."""


@register("dag_erc")
class DAGERC(DialogueModel):
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

    Shapes:
        - **input:** a batch of dialogues (``HeteroData``) with utterance features
          ``x_<modality>`` :math:`(N, d_m)` and the graph :meth:`required_transform` builds
        - **output:** a :class:`~dialoggraph.models.ModelOutput` with logits :math:`(N, C)`

    Example:
        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> config = DAGERCConfig(hidden=32, modalities=("text",))
        >>> data = SyntheticDialogues(4, pre_transform=DAGERC.required_transform(config))
        >>> model = DAGERC(data.meta["feature_dims"], data.num_classes, config)
        >>> batch = Batch.from_data_list(list(data))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    Config = DAGERCConfig
    optimizer = {"lr": 3e-4, "weight_decay": 0.0}        # the authors' IEMOCAP lr 5e-4 is preset paper
    presets = {
        "paper": Preset("the paper's and the authors' IEMOCAP model (hidden 300, 4 layers, dropout 0.2, lr 5e-4)",
                        PAPER, {"lr": 5e-4, "weight_decay": 0.0}),
        "iemocap": Preset("the authors' IEMOCAP command (4 layers, dropout 0.2, lr 5e-4, batch 16, 30 epochs)",
                          PAPER, {"lr": 5e-4, "weight_decay": 0.0, "batch_size": 16, "epochs": 30},
                          PaperResult(68.03, None, "Table 2"),
                          DAGERC_IEMOCAP),
        "meld": Preset("the authors' MELD command (2 layers, dropout 0.1, lr 1e-5, batch 64, 70 epochs)",
                       {**PAPER, "num_layers": 2, "dropout": 0.1},
                       {"lr": 1e-5, "weight_decay": 0.0, "batch_size": 64, "epochs": 70},
                       PaperResult(63.65, None, "Table 2"),
                       DAGERC_MELD),
    }

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: DAGERCConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        config = self.config
        in_dim = sum(in_dims[m] for m in config.modalities)
        self.input = torch.nn.Linear(in_dim, config.hidden)
        self.layers = torch.nn.ModuleList(DAGConv(config.hidden) for _ in range(config.num_layers))
        width = config.hidden * (config.num_layers + 1) + in_dim
        mlp: list[torch.nn.Module] = []
        for _ in range(config.mlp_layers):
            mlp += [torch.nn.Linear(width, config.hidden), torch.nn.ReLU()]
            width = config.hidden
        mlp += [Dropout(config.dropout), torch.nn.Linear(width, num_classes)]
        self.classifier = torch.nn.Sequential(*mlp)

    @classmethod
    def required_transform(cls, config: DAGERCConfig) -> DAGGraph:
        """The dataset ``pre_transform`` that builds the edges this model reads."""
        return DAGGraph(config.same_speaker_window)

    def forward(self, batch: HeteroData, return_attention_weights: bool = False) -> ModelOutput:
        """The logits; with ``return_attention_weights`` also each layer's attention over the
        DAG edges in ``attention`` (``"layer <l>"``: ``(edge_index, alpha)``)."""
        store = batch[NODE]
        x = torch.cat([self.input_features(batch, m) for m in self.config.modalities], dim=-1)
        edge_index, same = batch[DAG].edge_index, batch[DAG].same_speaker
        node_batch = store.get("batch")
        schedule = DAGSchedule.build(edge_index, same, node_batch, x.size(0))  # once for all layers
        h = F.relu(self.input(x))
        states, attention = [h], {}
        for number, layer in enumerate(self.layers, 1):
            h = layer(h, edge_index, same, node_batch, schedule=schedule,
                      return_attention_weights=return_attention_weights)
            if return_attention_weights:
                h, attention[f"layer {number}"] = h
            states.append(h)
        return ModelOutput(self.classifier(torch.cat(states + [x], dim=-1)), attention=attention)
