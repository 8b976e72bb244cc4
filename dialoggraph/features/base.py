"""The featurizer contract, the registry of featurizers and the one spec grammar that names them.

A featurizer turns utterances (:class:`~dialoggraph.features.Utterance` rows) into one
modality's node features. Every featurizer, built in or yours, is one class:

.. code-block:: python

    from dialoggraph.features import TextFeaturizer, register_featurizer

    @register_featurizer
    class Lengths(TextFeaturizer):
        '''Characters and words of each utterance (``--text lengths``).'''
        kinds = ("lengths",)
        dim = 2

        @classmethod
        def from_spec(cls, kind, model, config):
            return cls()

        def transform(self, utterances, media_root=".", progress=False):
            return np.asarray([[len(u.text), len(u.text.split())] for u in utterances], np.float32)

        def record(self):
            return {}

        @classmethod
        def from_record(cls, record, root, device="cpu"):
            return cls()

The spec ``KIND`` or ``KIND:MODEL`` (``tfidf``, ``sbert:all-MiniLM-L6-v2``, ``egemaps``,
``timm:resnet18``) names a registered class: :func:`parse_spec` reads it,
:func:`make_featurizer` builds the featurizer from it and a
:class:`~dialoggraph.features.FeaturizeConfig`, and :func:`load_featurizer` rebuilds a fitted
one from its entry in ``featurizers.json``. ``dialoggraph featurize``, the MELD and IEMOCAP
datasets and :class:`~dialoggraph.train.Predictor` all go through these three.

The life of a featurizer (:func:`~dialoggraph.features.featurize` runs it):

1. ``from_spec(kind, model, config)``: built from the spec and the options;
2. ``fit(train, dev, label_names, state_dir, progress)``: fitted on the train utterances (dev
   selects what needs selecting); the default fits nothing;
3. ``save(path)``: its fitted state written next to ``path`` (the default writes nothing);
4. ``transform(utterances, media_root)``: ``[n, dim]`` float32;
5. ``record()``: the JSON settings that ``from_record(record, root)`` rebuilds it from
   (with the fitted state :meth:`Featurizer.save` wrote under ``root``).

Media featurizers (:class:`MediaFeaturizer`) describe one utterance's window of its media file at
a time (:meth:`MediaFeaturizer.encode`); ``transform`` gives a row of NaN where an utterance has
no usable media, and the pipeline standardises the rows with the train statistics and marks
the missing ones (``audio_present`` / ``visual_present``).
"""
from __future__ import annotations

import abc
import importlib
import importlib.metadata
import os
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np

from dialoggraph.features.media import MediaError
from dialoggraph.features.transcript import Utterance

if TYPE_CHECKING:
    from dialoggraph.features.pipeline import FeaturizeConfig

MODALITIES = ("text", "audio", "visual")
#: modality -> kind -> the class that makes it.
FEATURIZERS: dict[str, dict[str, type["Featurizer"]]] = {m: {} for m in MODALITIES}


class Featurizer(abc.ABC):
    """One modality's features of utterances (see the module docstring for the life cycle).

    Class attributes:
        modality: ``"text"``, ``"audio"`` or ``"visual"``.
        kinds: the spec names this class makes (``("egemaps", "compare")``).
        takes_model: whether the spec is ``KIND:MODEL``.
        extra: the ``pip install "dialoggraph[EXTRA]"`` it needs, if any.

    Attributes:
        dim: the width of its features.
    """

    modality: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    takes_model: ClassVar[bool] = False
    extra: ClassVar[str | None] = None
    dim: int

    @classmethod
    @abc.abstractmethod
    def from_spec(cls, kind: str, model: str | None, config: "FeaturizeConfig") -> "Featurizer":
        """The featurizer ``kind[:model]`` with the options of ``config``."""

    def fit(self, train: Sequence[Utterance], dev: Sequence[Utterance] = (), label_names: Sequence[str] = (),
            state_dir: str | None = None, progress: bool = False) -> "Featurizer":
        """Fit on the train utterances (``dev`` selects, never trains); ``state_dir`` keeps the state of
        a long fit so that an interrupted one resumes. The default has nothing to fit."""
        return self

    @abc.abstractmethod
    def transform(self, utterances: Sequence[Utterance], media_root: str = ".",
                  progress: bool = False) -> np.ndarray:
        """``[len(utterances), dim]`` float32 (media: a NaN row where an utterance has no usable media)."""

    @abc.abstractmethod
    def record(self) -> dict[str, Any]:
        """JSON settings (and the library versions) that :meth:`from_record` rebuilds it from."""

    def save(self, path: str) -> str | None:
        """Write the fitted state at ``path`` (a file or folder name the featurizer may extend) and return
        the name written (relative to ``path``'s folder); ``None``: there is no state."""
        return None

    @classmethod
    @abc.abstractmethod
    def from_record(cls, record: dict[str, Any], root: str, device: str = "cpu") -> "Featurizer":
        """The featurizer ``record`` describes, its saved state (``record["state"]``) read under ``root``."""


class TextFeaturizer(Featurizer):
    """A featurizer of the utterances' text (``--text``)."""

    modality = "text"


class MediaFeaturizer(Featurizer):
    """A featurizer of each utterance's media window (``--audio`` / ``--visual``)."""

    @abc.abstractmethod
    def encode(self, path: str, start: float | None, end: float | None) -> tuple[np.ndarray | None, bool]:
        """One utterance's window of the file ``path`` -> ``(vector or None, cut)``: ``None`` when the
        window has no usable media, ``cut`` when it ran past the end of the file."""

    def wants(self, utterance: Utterance) -> bool:
        """Whether the utterance has media this featurizer reads."""
        return bool(utterance.media)

    def transform(self, utterances: Sequence[Utterance], media_root: str = ".",
                  progress: bool = False) -> np.ndarray:
        out = np.full((len(utterances), self.dim), np.nan, np.float32)
        for row, u in enumerate(utterances):
            if self.wants(u):
                try:
                    vector, _ = self.encode(os.path.join(media_root, u.media), u.start, u.end)
                except MediaError as exc:
                    raise MediaError(f"{u.where}: {exc}") from None
                if vector is not None:
                    out[row] = vector
        return out


def register_featurizer(cls: type[Featurizer]) -> type[Featurizer]:
    """Class decorator: make ``cls`` the featurizer of its ``modality`` and ``kinds`` (a kind
    registered twice is refused)."""
    if cls.modality not in FEATURIZERS:
        raise ValueError(f"{cls.__name__}.modality must be one of {', '.join(MODALITIES)}")
    for kind in cls.kinds:
        taken = FEATURIZERS[cls.modality].get(kind)
        if taken is not None and taken is not cls:
            raise ValueError(f"{cls.modality} featurizer {kind!r} is already {taken.__name__}")
        if kind == "none" or ":" in kind:
            raise ValueError(f"{kind!r} cannot name a featurizer")
        FEATURIZERS[cls.modality][kind] = cls
    return cls


def spec_values(modality: str) -> str:
    """The accepted specs of a modality, as a user reads them (``tfidf, sbert:MODEL, ...``)."""
    values = [k + (":MODEL" if c.takes_model else "") for k, c in FEATURIZERS[modality].items()]
    return ", ".join(values + (["none"] if modality == "text" else []))


def parse_spec(modality: str, spec: str) -> tuple[str, str | None]:
    """``"finetune:roberta-base"`` -> ``("finetune", "roberta-base")``; ``ValueError`` naming the
    accepted values when ``spec`` is not one of them (``"none"``: text features left out)."""
    kind, colon, model = spec.partition(":")
    if modality == "text" and spec == "none":
        return "none", None
    cls = FEATURIZERS[modality].get(kind)
    if cls is None or cls.takes_model != bool(colon) or (cls.takes_model and not model.strip()):
        raise ValueError(f"--{modality} {spec!r}: expected one of {spec_values(modality)}")
    return kind, (model.strip() if cls.takes_model else None)


def make_featurizer(modality: str, spec: str, config: "FeaturizeConfig") -> Featurizer:
    """The (unfitted) featurizer ``spec`` names, with the options of ``config``."""
    kind, model = parse_spec(modality, spec)
    if kind == "none":
        raise ValueError("--text none makes no featurizer")
    return FEATURIZERS[modality][kind].from_spec(kind, model and model_source(model), config)


def load_featurizer(modality: str, record: dict[str, Any], root: str, device: str = "cpu") -> Featurizer:
    """The fitted featurizer of a ``featurizers.json`` entry; its state is read under ``root``.

    A kind not registered in this process (a worker, a fresh interpreter) is looked up by
    importing the module its entry names (``"class": "module:Name"``), which registers it."""
    kind = record["kind"]
    failed = ""
    if kind not in FEATURIZERS[modality] and record.get("class"):
        try:
            importlib.import_module(record["class"].partition(":")[0])
        except ImportError as exc:
            failed = f" (importing it failed: {exc})"
    cls = FEATURIZERS[modality].get(kind)
    if cls is None:
        raise ValueError(f"{root}: the {modality} featurizer {kind!r} ({record.get('class', 'no class named')}) is "
                         f"not registered here{failed} (registered: {spec_values(modality)}); import the module "
                         f"that registers it")
    return cls.from_record(record, root, device)


def model_source(model: str) -> str:
    """A model named by path as an absolute path (so a record works from any folder); a hub name as is."""
    path = model.partition("@")[2] or model
    if os.path.exists(path):
        return model.replace(path, os.path.abspath(path)) if "@" in model else os.path.abspath(model)
    return model


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (for the records)."""
    out = {}
    for package in packages:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out
