"""The contract every model keeps: :class:`DialogueModel`, its :class:`ModelConfig` and :class:`Preset`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Iterable

import torch
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from dialoggraph.config import ConfigError, TypedConfig
from dialoggraph.data.dialogue import NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.models.output import ModelOutput
from dialoggraph.nn.dropout import dropout


@dataclass(frozen=True)
class Search:
    """Where ``dialoggraph tune`` searches one field: ``choices``, or a float range (``log``: log-uniform)."""

    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    def suggest(self, trial, name: str) -> Any:
        """An Optuna trial's value for ``name``."""
        if self.choices:
            return trial.suggest_categorical(name, list(self.choices))
        return trial.suggest_float(name, self.low, self.high, log=self.log)


WIDTHS = Search((64, 128, 256, 512))
DROPOUT = Search(low=0.0, high=0.5)
WINDOWS = Search((2, 5, 10, 20))


@dataclass
class ModelConfig(TypedConfig):
    """Base of every model's hyper-parameters. A model's ``Config`` derives from it, adds its
    own typed, documented fields and may redefine the defaults of ``modalities`` and
    ``input_dropout``.

    ``search`` says where ``dialoggraph tune`` searches each field (:meth:`search_space`); a
    subclass's entries join its bases' (``None`` removes one), and ``not_searched`` names the
    widths and dropouts it deliberately leaves out, with the reason."""

    modalities: tuple[str, ...] = ("text", "audio", "visual")
    """The modalities the model reads: any non-empty subset of the dataset's (``x_<name>`` features)."""
    input_dropout: float = 0.0
    """Dropout on every modality's input features while training (:meth:`DialogueModel.input_features`)."""

    search: ClassVar[dict[str, Search | None]] = {"input_dropout": DROPOUT}
    not_searched: ClassVar[dict[str, str]] = {}

    @classmethod
    def search_space(cls) -> dict[str, Search]:
        """The fields ``dialoggraph tune`` searches and where: the ``search`` entries of the class
        and its bases (the subclass's win)."""
        space: dict[str, Search | None] = {}
        for klass in reversed(cls.__mro__):
            space.update(klass.__dict__.get("search", {}))
        return {name: where for name, where in space.items() if where is not None}

    def check(self) -> None:
        repeated = sorted({m for m in self.modalities if self.modalities.count(m) > 1})
        if repeated:
            self.fail(f"modalities {self.modalities} name {', '.join(repeated)} more than once")


@dataclass(frozen=True)
class PaperResult:
    """A figure a paper reports for its model on the test split (percent)."""

    weighted_f1: float
    accuracy: float | None
    where: str                  # e.g. "Table 3"


@dataclass(frozen=True)
class FeatureFiles:
    """Community feature files a paper's setting trains on (read with
    :class:`~dialoggraph.datasets.FeaturePickle`): what to fetch and where to put it."""

    layout: str                 # a FeaturePickle layout
    files: tuple[str, ...]      # the file (mmgcn) or the files inside the folder (multiemo, dagerc)
    labels: str                 # "iemocap" or "meld"
    source: str                 # where to get them


@dataclass(frozen=True)
class Preset:
    """A paper's setting for one dataset: model hyper-parameters, the training schedule
    (:class:`~dialoggraph.train.TrainConfig` fields) and, for ``dialoggraph reproduce``, the
    figure the paper reports and the feature files it trains on."""

    description: str
    config: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    paper: PaperResult | None = None
    features: FeatureFiles | None = None


def edge_types_of(transform: BaseTransform | None) -> tuple[tuple[str, str, str], ...]:
    """The edge stores a ``pre_transform`` adds (its ``edge_types``; a ``Compose``'s union)."""
    if transform is None:
        return ()
    parts = getattr(transform, "transforms", None)
    if parts is not None:
        return tuple(t for part in parts for t in edge_types_of(part))
    return tuple(getattr(transform, "edge_types", ()))


class DialogueModel(torch.nn.Module):
    r"""Base class of every dialoggraph model: the contract between a model and the trainer.

    A model

    - has a typed configuration class ``Config`` (a :class:`ModelConfig` dataclass: ``Literal``
      choices, checked on construction, each field documented) and optional named paper
      settings ``presets`` (:class:`Preset`, e.g. ``"meld"``, ``"iemocap"``);
    - is built as ``Model(in_dims, num_classes, config)``, ``in_dims`` mapping each
      modality to its feature size;
    - says which edges it reads with :meth:`required_transform` (a PyG transform for the
      datasets' ``pre_transform``, so the graphs are built once); a batch without them is
      refused before :meth:`forward` runs, with the transform to use;
    - maps a batch to a :class:`ModelOutput` in :meth:`forward`: logits ``[N, C]``, auxiliary
      losses already weighted; the training loss is ``ce_weight`` x cross-entropy on
      ``y >= 0`` plus their sum;
    - is trained by gradient steps, or fitted outright in :meth:`fit_outright` (the
      scikit-learn logistic-regression floor);
    - may react to the epoch (:meth:`set_epoch`, called by the trainer before each one) and
      exclude parameters it regularises itself from weight decay (:meth:`no_weight_decay`);
    - recommends its optimiser settings in ``optimizer`` (``lr``, ``weight_decay``: the
      paper's), used where the :class:`~dialoggraph.train.TrainConfig` leaves them unset;
    - says with ``runs_without_modality`` whether a trained model still runs on a batch that
      lacks some of its modalities' features (a model whose prediction is a sum of
      per-modality heads, such as AMB-DSGDN); evaluation with a modality removed is refused
      for the others (they can only be evaluated with it zeroed).

    A subclass calls ``super().__init__(in_dims, num_classes, config)`` first; that sets
    ``self.config``, ``self.in_dims``, ``self.num_classes`` and ``self.modalities`` (checked
    to be a non-empty subset of ``in_dims``).
    """

    Config: ClassVar[type[ModelConfig]] = ModelConfig
    presets: ClassVar[dict[str, Preset]] = {}
    optimizer: ClassVar[dict[str, float]] = {"lr": 1e-3, "weight_decay": 0.0}
    runs_without_modality: ClassVar[bool] = False

    def __init__(self, in_dims: dict[str, int], num_classes: int, config: ModelConfig | None = None):
        super().__init__()
        config = self.Config() if config is None else config
        if not isinstance(config, self.Config):
            raise ConfigError(f"{type(self).__name__} takes a {self.Config.__name__}, got {type(config).__name__}")
        missing = [m for m in config.modalities if m not in in_dims]
        if not config.modalities or missing:
            raise ConfigError(f"{type(self).__name__}: modalities {tuple(config.modalities)} must be a non-empty "
                              f"subset of the dataset's {tuple(in_dims)}")
        self.config = config
        self.in_dims = dict(in_dims)
        self.num_classes = int(num_classes)
        self.modalities = tuple(config.modalities)
        self.required_edges = edge_types_of(self.required_transform(config))
        if self.required_edges:
            self.register_forward_pre_hook(_check_edges)

    @classmethod
    def required_transform(cls, config: ModelConfig) -> BaseTransform | None:
        """The dataset ``pre_transform`` that builds the edges this model reads (``None``: none)."""
        return None

    @property
    def pre_transform(self) -> BaseTransform | None:
        """:meth:`required_transform` of this model's config."""
        return self.required_transform(self.config)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> ModelConfig:
        """The model config of the paper setting ``name`` (see ``presets``), with ``overrides``."""
        if name not in cls.presets:
            raise ConfigError(f"{cls.__name__} has no preset {name!r}; presets: "
                              f"{', '.join(cls.presets) or 'none'}")
        return cls.Config(**{**cls.presets[name].config, **overrides})

    @classmethod
    def default_config(cls, available: Iterable[str], **overrides: Any) -> ModelConfig:
        """``Config(**overrides)``; unless ``modalities`` is among the overrides, its default
        modalities cut to those ``available`` in the data (an error if none is)."""
        config = cls.Config(**overrides)
        if "modalities" in overrides:
            return config
        available = list(available)
        keep = tuple(m for m in config.modalities if m in available)
        if not keep:
            raise ConfigError(f"none of {cls.__name__}'s modalities {config.modalities} is in the data "
                              f"({', '.join(available)}); set modalities")
        return replace(config, modalities=keep)

    def input_features(self, batch: HeteroData, modality: str) -> torch.Tensor:
        """The utterances' ``x_<modality>`` features, with ``input_dropout`` while training."""
        return dropout(batch[NODE][f"x_{modality}"], self.config.input_dropout, self.training)

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer before each epoch (0-based); nothing by default."""

    def fit_outright(self, train_set, val_set) -> dict[str, Any] | None:
        """Fit the weights outright from ``train_set`` (choosing any setting on ``val_set``), for a
        model that is not trained by gradient steps (the logistic-regression floor). Returns facts
        about the fit for the run's log (``train_loss`` among them), or ``None`` (the default): the
        trainer then runs its epochs; otherwise the fit is the run's one and only epoch. A model
        that needs statistics of its training data (MFCRE's class counts) records them here and
        returns ``None``."""
        return None

    def no_weight_decay(self) -> list[torch.nn.Parameter]:
        """Parameters the optimiser must not decay (the model regularises them itself)."""
        return []

    def forward(self, batch: HeteroData) -> ModelOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"modalities={self.modalities}, num_classes={self.num_classes}"


def _check_edges(model: DialogueModel, args: tuple) -> None:
    """Forward pre-hook: refuse a batch that lacks the edges the model reads, naming the transform."""
    batch = args[0] if args else None
    present = getattr(batch, "edge_types", ())
    missing = [t for t in model.required_edges if t not in present]
    if missing:
        raise DialogueValidationError(
            f"{type(model).__name__} needs the {', '.join(repr(t[1]) for t in missing)} edges: build the dataset "
            f"with pre_transform={model.pre_transform!r}")

