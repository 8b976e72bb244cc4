"""Floors every results table reports: a per-utterance logistic regression and MLP, and a BiGRU."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch_geometric.data import HeteroData
from torch_geometric.loader import DataLoader

from dialoggraph.data.dialogue import NODE
from dialoggraph.models.base import DROPOUT, DialogueModel, ModelConfig, WIDTHS
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import register
from dialoggraph.nn.seq.dialogue_gru import DialogueGRU
from dialoggraph.nn.dropout import Dropout


@dataclass
class BaselineConfig(ModelConfig):
    """Hyper-parameters of the baselines."""

    hidden: int = 256
    """Hidden width (the MLP's layer, the GRU's state)."""
    dropout: float = 0.3
    """Dropout on the input and before the classifier."""
    modalities: tuple[str, ...] = ("text", "audio", "visual")
    """The modalities read, concatenated (default: those of the three the data has, as the
    published models read them)."""

    renamed = {"lr": None, "weight_decay": None}
    search = {"hidden": WIDTHS, "dropout": DROPOUT, "input_dropout": None}
    not_searched = {"input_dropout": "dropout already drops the input"}


class _Baseline(DialogueModel):
    Config = BaselineConfig
    optimizer = {"lr": 1e-3, "weight_decay": 1e-5}

    def features(self, batch: HeteroData) -> torch.Tensor:
        """The concatenated input features of the configured modalities."""
        return torch.cat([self.input_features(batch, m) for m in self.modalities], dim=-1)


@register("mlp")
class UtteranceMLP(_Baseline):
    """Per-utterance MLP on the concatenated modalities: no context at all.

    Args:
        in_dims: feature width of each modality, e.g. ``{"text": 384}`` (a dataset's
            ``meta["feature_dims"]``).
        num_classes: number of emotion classes :math:`C`.
        config: the hyper-parameters (:class:`BaselineConfig`; default: its defaults).

    Shapes:
        - **input:** a batch of dialogues (``HeteroData``) with utterance features
          ``x_<modality>`` :math:`(N, d_m)` (no edges are read)
        - **output:** a :class:`~dialoggraph.models.ModelOutput` with logits :math:`(N, C)`

    Example:
        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> data = SyntheticDialogues(4)
        >>> model = UtteranceMLP(data.meta["feature_dims"], data.num_classes)
        >>> batch = Batch.from_data_list(list(data))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        c = self.config
        self.net = torch.nn.Sequential(torch.nn.Linear(sum(in_dims[m] for m in self.modalities), c.hidden),
                                       torch.nn.ReLU(), Dropout(c.dropout),
                                       torch.nn.Linear(c.hidden, num_classes))

    def forward(self, batch: HeteroData) -> ModelOutput:
        return ModelOutput(self.net(self.features(batch)))


@register("bigru")
class BiGRU(_Baseline):
    """A bidirectional GRU over each dialogue, then a linear classifier per utterance.

    Args:
        in_dims: feature width of each modality, e.g. ``{"text": 384}`` (a dataset's
            ``meta["feature_dims"]``).
        num_classes: number of emotion classes :math:`C`.
        config: the hyper-parameters (:class:`BaselineConfig`; default: its defaults).

    Shapes:
        - **input:** a batch of dialogues (``HeteroData``) with utterance features
          ``x_<modality>`` :math:`(N, d_m)` (no edges are read)
        - **output:** a :class:`~dialoggraph.models.ModelOutput` with logits :math:`(N, C)`

    Example:
        All three modalities, concatenated, with a 64-wide state:

        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> data = SyntheticDialogues(4)
        >>> config = BaselineConfig(hidden=64, modalities=("text", "audio", "visual"))
        >>> model = BiGRU(data.meta["feature_dims"], data.num_classes, config)
        >>> batch = Batch.from_data_list(list(data))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: BaselineConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        c = self.config
        self.gru = DialogueGRU(sum(in_dims[m] for m in self.modalities), c.hidden)
        self.dropout = Dropout(c.dropout)
        self.out = torch.nn.Linear(c.hidden, num_classes)

    def forward(self, batch: HeteroData) -> ModelOutput:
        x = self.dropout(self.features(batch))
        return ModelOutput(self.out(self.dropout(self.gru(x, batch[NODE].get("batch")))))


@dataclass
class LogisticRegressionConfig(ModelConfig):
    """Settings of the per-utterance logistic regression (scikit-learn's ``LogisticRegression``)."""

    Cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    """Inverse regularisation strengths tried; the one with the best dev weighted F1 is kept
    (one value: no choice)."""
    scaling: Literal["choose", "standard", "none"] = "choose"
    """Standardise the features (zero mean, unit variance on train), leave them as they are, or
    choose the one with the better dev weighted F1 (with its C)."""
    class_weight: Literal["none", "balanced"] = "none"
    """Class weights of the loss: none, or scikit-learn's ``"balanced"`` (inverse class frequency)."""
    max_iter: int = 1000
    """Most L-BFGS iterations of each fit."""
    modalities: tuple[str, ...] = ("text", "audio", "visual")
    """The modalities read, concatenated (default: those of the three the data has, as the
    published models read them)."""

    search = {"input_dropout": None}
    not_searched = {"input_dropout": "fitted outright, without dropout"}

    def check(self) -> None:
        super().check()
        if not self.Cs or min(self.Cs) <= 0 or self.max_iter < 1:
            self.fail("Cs must be non-empty and positive, max_iter >= 1")


def utterance_table(dataset, modalities: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The labelled utterances of ``dataset`` as a feature matrix (modalities concatenated) and labels."""
    xs, ys = [], []
    for batch in DataLoader(dataset, batch_size=256):
        keep = batch[NODE].y >= 0
        xs.append(torch.cat([batch[NODE][f"x_{m}"] for m in modalities], dim=-1)[keep].double().numpy())
        ys.append(batch[NODE].y[keep].numpy())
    return np.concatenate(xs), np.concatenate(ys)


@register("logreg")
class LogisticRegressionFloor(_Baseline):
    r"""Per-utterance multinomial logistic regression on standardised or raw features: the floor a
    context model must beat. Fitted outright by scikit-learn (L-BFGS, deterministic: every
    seed gives the same model), not by gradient steps: :meth:`fit_outright` fits one
    ``LogisticRegression`` per ``C`` in ``Cs`` on the standardised and (``scaling="choose"``)
    on the raw training features, keeps the fit with the best dev weighted F1 and folds its
    scaler (mean :math:`\boldsymbol{\mu}`, scale :math:`\boldsymbol{\sigma}`; 0 and 1 for raw
    features) into one linear layer,

    .. math:: \mathbf{W} = \mathbf{B} / \boldsymbol{\sigma}, \qquad
              \mathbf{b} = \mathbf{c} - \mathbf{B} (\boldsymbol{\mu} / \boldsymbol{\sigma}),

    so ``forward``, checkpoints, ``evaluate`` and ``predict`` are those of any model.

    Args:
        in_dims: feature width of each modality, e.g. ``{"text": 384}`` (a dataset's
            ``meta["feature_dims"]``).
        num_classes: number of emotion classes :math:`C`.
        config: the hyper-parameters (:class:`LogisticRegressionConfig`; default: its defaults).

    Shapes:
        batch features ``[N, sum of widths]`` -> logits ``[N, C]``.

    Example:
        Fitted on train, C and the scaling chosen on dev, then used as any model:

        >>> from torch_geometric.data import Batch
        >>> from dialoggraph.datasets import SyntheticDialogues
        >>> train, dev = SyntheticDialogues(16), SyntheticDialogues(8, split="dev")
        >>> model = LogisticRegressionFloor(train.meta["feature_dims"], train.num_classes)
        >>> info = model.fit_outright(train, dev)
        >>> info["C"] in model.config.Cs and info["scaling"] in ("standard", "none")
        True
        >>> batch = Batch.from_data_list(list(dev))
        >>> model(batch).logits.shape == (batch["utterance"].num_nodes, 7)
        True
    """

    Config = LogisticRegressionConfig

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: LogisticRegressionConfig | None = None):
        super().__init__(in_dims, num_classes, config)
        self.linear = torch.nn.Linear(sum(in_dims[m] for m in self.modalities), num_classes)
        self.register_buffer("C", torch.tensor(float("nan"), dtype=torch.float64))   # the C kept (nan: not fitted yet)

    def forward(self, batch: HeteroData) -> ModelOutput:
        return ModelOutput(self.linear(self.features(batch)))

    def fit_outright(self, train_set, val_set) -> dict[str, Any]:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score, log_loss
        from sklearn.preprocessing import StandardScaler
        c = self.config
        x, y = utterance_table(train_set, self.modalities)
        x_dev, y_dev = utterance_table(val_set, self.modalities)
        standard = StandardScaler().fit(x)
        identity = StandardScaler(with_mean=False, with_std=False).fit(x)      # mean_ None, scale_ None
        scalers = {"standard": [standard], "none": [identity], "choose": [standard, identity]}[c.scaling]
        fits, scores = {}, {}
        for scaler in scalers:
            for C in c.Cs:
                key = ("standard" if scaler is standard else "none", C)
                fits[key] = (scaler, LogisticRegression(C=C, max_iter=c.max_iter, class_weight=None if
                                                        c.class_weight == "none" else "balanced"
                                                        ).fit(scaler.transform(x), y))
                scores[key] = f1_score(y_dev, fits[key][1].predict(scaler.transform(x_dev)), average="weighted",
                                       zero_division=0)
        best = max(scores, key=scores.__getitem__)      # the first of equal scores: standardised, strongest regularisation
        scaler, fit = fits[best]
        mean = scaler.mean_ if scaler.mean_ is not None else np.zeros(x.shape[1])
        scale = scaler.scale_ if scaler.scale_ is not None else np.ones(x.shape[1])
        coef, intercept = fit.coef_, fit.intercept_
        if len(fit.classes_) == 2 and coef.shape[0] == 1:   # a binary fit scores one class against the other
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        weight = np.zeros((self.num_classes, x.shape[1]))
        bias = np.full(self.num_classes, -1e4)           # classes absent from training are never predicted
        weight[fit.classes_], bias[fit.classes_] = coef / scale, intercept - coef @ (mean / scale)
        with torch.no_grad():
            self.linear.weight.copy_(torch.from_numpy(weight))
            self.linear.bias.copy_(torch.from_numpy(bias))
            self.C.fill_(best[1])
        return {"train_loss": float(log_loss(y, fit.predict_proba(scaler.transform(x)), labels=fit.classes_)),
                "C": best[1], "scaling": best[0],
                "dev_weighted_f1": {f"{k[0]} C={k[1]}": round(float(v), 4) for k, v in scores.items()}}
