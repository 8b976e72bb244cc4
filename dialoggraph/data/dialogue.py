"""The dialogue schema: one dialogue is one :class:`~torch_geometric.data.HeteroData`.

Node type ``"utterance"`` carries

* ``x_<modality>``: float32 ``[n, d_m]`` per modality (``x_text``, ``x_audio``, ...),
* ``speaker``: long ``[n]``, dialogue-local ids ``0..S-1`` in order of first appearance,
* ``speaker_global``: long ``[n]``, dataset-level speaker id or ``-1``,
* ``y``: long ``[n]``, emotion id or ``-1`` where unlabeled.

Graph-level attributes: ``dialogue_id`` (str), ``modalities`` (tuple of names),
``speaker_names`` (list of the original speaker names, indexed by local id).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from dialoggraph.data.errors import DialogueValidationError

NODE = "utterance"
UNLABELED = -1
# The edge stores the transforms attach (source j -> target i); see docs/schema.md.
INTRA = (NODE, "intra_speaker", NODE)
"""Intra-speaker relation edges (with ``edge_rel``), :class:`~dialoggraph.transforms.SpeakerWindowGraph`."""
INTER = (NODE, "inter_speaker", NODE)
"""Inter-speaker relation edges (with ``edge_rel``), :class:`~dialoggraph.transforms.SpeakerWindowGraph`."""
DAG = (NODE, "dag", NODE)
"""DAG-ERC's edges (with ``same_speaker``), :class:`~dialoggraph.transforms.DAGGraph`."""


def _as_tensor(value: Any, what: str, dialogue_id: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError) as exc:
        raise DialogueValidationError(
            f"dialogue {dialogue_id!r}: {what} is not array-like ({exc})") from None


def _local_speakers(speaker: Sequence[Any] | Tensor, dialogue_id: str) -> tuple[Tensor, list[str]]:
    """Map speaker names or ids to dialogue-local ids by first appearance."""
    if isinstance(speaker, Tensor):
        if speaker.dim() != 1 or speaker.dtype.is_floating_point or speaker.dtype == torch.bool:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: speaker must be a 1-D integer tensor or a list of "
                f"names, got dtype {speaker.dtype} and shape {tuple(speaker.shape)}")
        speaker = speaker.tolist()
    elif isinstance(speaker, np.ndarray) and speaker.ndim != 1:
        raise DialogueValidationError(
            f"dialogue {dialogue_id!r}: speaker must be 1-D, got shape {speaker.shape}")
    names: list[str] = []
    index: dict[Any, int] = {}
    local = []
    for s in speaker:
        key = s.item() if isinstance(s, np.generic) else s
        if key not in index:
            index[key] = len(names)
            names.append(str(key))
        local.append(index[key])
    return torch.tensor(local, dtype=torch.long), names


def _labels(y: Any, n: int, labels: Sequence[str] | None, dialogue_id: str) -> Tensor:
    if y is None:
        return torch.full((n,), UNLABELED, dtype=torch.long)
    items = y.tolist() if isinstance(y, (Tensor, np.ndarray)) else list(y)
    if len(items) != n:
        raise DialogueValidationError(
            f"dialogue {dialogue_id!r}: {n} speakers but {len(items)} labels")
    lookup = {name: i for i, name in enumerate(labels)} if labels is not None else None
    out = []
    for row, item in enumerate(items):
        if isinstance(item, str):
            if lookup is None:
                raise DialogueValidationError(
                    f"dialogue {dialogue_id!r}, utterance {row}: label {item!r} is a name but "
                    f"no label set was given (pass labels=[...])")
            if item not in lookup:
                raise DialogueValidationError(
                    f"dialogue {dialogue_id!r}, utterance {row}: unknown label {item!r}; "
                    f"known labels: {', '.join(labels)}")
            out.append(lookup[item])
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            item = int(item)
            if item < UNLABELED or (labels is not None and item >= len(labels)):
                known = f"0..{len(labels) - 1}" if labels is not None else ">= 0"
                raise DialogueValidationError(
                    f"dialogue {dialogue_id!r}, utterance {row}: label {item} outside the "
                    f"label set ({known}, or -1 for unlabeled)")
            out.append(item)
        else:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}, utterance {row}: label {item!r} is neither an "
                f"integer nor a label name")
    return torch.tensor(out, dtype=torch.long)


def make_dialogue(
    speaker: Sequence[Any] | Tensor,
    y: Sequence[Any] | Tensor | None = None,
    dialogue_id: str | None = None,
    *,
    labels: Sequence[str] | None = None,
    speaker_global: Sequence[int] | Tensor | None = None,
    **features: Any,
) -> HeteroData:
    r"""Build one dialogue as a :class:`HeteroData` in dialoggraph's schema.

    Args:
        speaker: speaker of each utterance, as names or integers; mapped to
            dialogue-local ids ``0..S-1`` by first appearance (the originals
            are kept in ``data.speaker_names``).
        y: emotion of each utterance as ids or names, ``-1`` for unlabeled.
        dialogue_id: a name used in error messages and kept on the graph.
        labels: the label set (names, in id order). Needed when ``y`` holds
            names; when given, integer labels must lie in ``0..len(labels)-1``.
        speaker_global: dataset-level speaker ids (``-1`` when unknown).
        **features: one ``[n, d]`` array per modality, e.g. ``text=...``,
            ``audio=...``; stored as float32 ``x_<modality>``. A leading
            ``x_`` in the keyword is accepted too.

    Raises:
        DialogueValidationError: empty dialogue, length mismatch, non-finite
            features, wrong dtype or rank, labels outside the label set.

    Example:
        >>> data = make_dialogue(["Ann", "Bob", "Ann"], ["joy", "neutral", "joy"],
        ...                      labels=["neutral", "joy"], text=torch.randn(3, 8))
        >>> data["utterance"].speaker.tolist()
        [0, 1, 0]
    """
    dialogue_id = str(dialogue_id) if dialogue_id is not None else "<unnamed>"
    local, names = _local_speakers(speaker, dialogue_id)
    n = local.numel()
    if n == 0:
        raise DialogueValidationError(f"dialogue {dialogue_id!r}: empty dialogue (no utterances)")

    data = HeteroData()
    store = data[NODE]
    store.num_nodes = n
    store.speaker = local
    store.y = _labels(y, n, labels, dialogue_id)
    if speaker_global is None:
        store.speaker_global = torch.full((n,), -1, dtype=torch.long)
    else:
        sg = _as_tensor(speaker_global, "speaker_global", dialogue_id)
        if sg.dtype.is_floating_point or sg.dim() != 1 or sg.numel() != n:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: speaker_global must be {n} integers, got dtype "
                f"{sg.dtype} and shape {tuple(sg.shape)}")
        store.speaker_global = sg.long()

    modalities = []
    for key, value in features.items():
        modality = key[2:] if key.startswith("x_") else key
        x = _as_tensor(value, f"modality {modality!r}", dialogue_id)
        if not x.dtype.is_floating_point:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: modality {modality!r} must be floating point, "
                f"got {x.dtype}")
        store[f"x_{modality}"] = x.to(torch.float32)
        modalities.append(modality)
    if not modalities:
        raise DialogueValidationError(
            f"dialogue {dialogue_id!r}: no modality features given (e.g. text=...)")
    data.dialogue_id = dialogue_id
    data.modalities = tuple(modalities)
    data.speaker_names = names
    validate_dialogue(data)
    return data


def validate_dialogue(data: HeteroData, num_classes: int | None = None) -> None:
    """Check one dialogue against the schema.

    Raises :class:`DialogueValidationError` naming the dialogue and field.
    """
    dialogue_id = getattr(data, "dialogue_id", "<unnamed>")
    if NODE not in data.node_types:
        raise DialogueValidationError(f"dialogue {dialogue_id!r}: no {NODE!r} nodes")
    store = data[NODE]
    n = store.num_nodes
    if not n:
        raise DialogueValidationError(f"dialogue {dialogue_id!r}: empty dialogue (no utterances)")
    for field in ("speaker", "y", "speaker_global"):
        value = store.get(field)
        if not isinstance(value, Tensor):
            raise DialogueValidationError(f"dialogue {dialogue_id!r}: missing field {field!r}")
        if value.dtype != torch.long or value.dim() != 1:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: {field} must be a 1-D long tensor, got dtype "
                f"{value.dtype} and shape {tuple(value.shape)}")
        if value.numel() != n:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: {n} utterances but {value.numel()} values in {field}")
    if bool((store.speaker < 0).any()):
        raise DialogueValidationError(f"dialogue {dialogue_id!r}: negative speaker id")
    y = store.y
    if bool((y < UNLABELED).any()) or (num_classes is not None and bool((y >= num_classes).any())):
        raise DialogueValidationError(
            f"dialogue {dialogue_id!r}: label outside 0..{'C-1' if num_classes is None else num_classes - 1}"
            f" (or -1 for unlabeled)")
    for modality in data.modalities:
        x = store.get(f"x_{modality}")
        if not isinstance(x, Tensor):
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: modality {modality!r} listed but x_{modality} missing")
        if x.dim() != 2:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: x_{modality} must be [utterances, features], got "
                f"shape {tuple(x.shape)}")
        if x.size(0) != n:
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}: {n} utterances but {x.size(0)} rows in x_{modality}")
        bad = ~torch.isfinite(x).all(dim=1)
        if bool(bad.any()):
            row = int(bad.nonzero()[0])
            raise DialogueValidationError(
                f"dialogue {dialogue_id!r}, utterance {row}: non-finite value (NaN/Inf) in "
                f"x_{modality}")
