"""Predicting and evaluating a model on a dataset, and checking that a split fits a model."""
from __future__ import annotations

import sys
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Subset
from torch_geometric.loader import DataLoader
from tqdm import tqdm

from dialoggraph.data.dialogue import NODE
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.models.base import DialogueModel
from dialoggraph.train import distributed
from dialoggraph.train.metrics import classification_metrics


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside a ``DistributedDataParallel`` wrapper (or the model itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def resolve_device(device: str) -> str:
    """``"auto"``: ``"cuda"`` when torch sees a GPU, else ``"cpu"``; any other device as it is."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def dataset_dims(dataset) -> dict[str, int]:
    """Feature size per modality of a dataset (its ``meta["feature_dims"]``, else its first dialogue's)."""
    dims = getattr(dataset, "meta", {}).get("feature_dims") if hasattr(dataset, "meta") else None
    if dims:
        return dict(dims)
    store = dataset[0][NODE]
    return {key[2:]: int(store[key].size(-1)) for key in store.keys() if key.startswith("x_")}


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, batch_size: int = 32, device: str = "cpu",
            quiet: bool = True, perturb: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """Class probabilities for every utterance of ``dataset``, in dataset order.

    Returns ``probs`` ``[N, C]``, ``y`` ``[N]``, the ``dialogues``' ids, each dialogue's
    ``speakers`` (names per utterance) and ``modality_probs`` (``{modality: [N, C]}``, from the
    model's per-modality heads where it has them). ``perturb(batch) -> batch`` is applied to
    every batch before the model reads it (test-time noise or a missing modality).
    Under DDP each rank predicts a strided share of the dialogues and the shares
    are gathered, so every rank returns the whole result.
    """
    model = unwrap(model)
    model.eval()
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    indices = list(range(rank, len(dataset), world))
    loader = DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False)
    probs, ys, ids, speakers, heads = [], [], [], [], []
    for batch in tqdm(loader, desc="predict", disable=quiet or not sys.stderr.isatty(), leave=False):
        batch = batch.to(device, non_blocking=True)
        counts = torch.bincount(batch[NODE].batch, minlength=batch.num_graphs).tolist()
        ys += list(batch[NODE].y.cpu().split(counts))
        ids += list(batch.dialogue_id)
        speakers += [[names[s] for s in local.tolist()]
                     for names, local in zip(batch.speaker_names, batch[NODE].speaker.cpu().split(counts))]
        output = model(perturb(batch) if perturb is not None else batch)
        probs += list(torch.softmax(output.logits, dim=-1).cpu().split(counts))
        split = {m: torch.softmax(lm, dim=-1).cpu().split(counts) for m, lm in output.modality_logits.items()}
        heads += [{m: parts[k] for m, parts in split.items()} for k in range(batch.num_graphs)]
    shares = distributed.gather((indices, probs, ys, ids, speakers, heads))
    order = {}
    for share in shares:
        for k, index in enumerate(share[0]):
            order[index] = tuple(part[k] for part in share[1:])
    ranked = [order[i] for i in range(len(dataset))]
    modalities = list(ranked[0][4]) if ranked else []
    return {"probs": torch.cat([r[0] for r in ranked]).numpy() if ranked else np.zeros((0, 0)),
            "y": torch.cat([r[1] for r in ranked]).numpy() if ranked else np.zeros(0, dtype=int),
            "dialogues": [r[2] for r in ranked], "speakers": [r[3] for r in ranked],
            "modality_probs": {m: torch.cat([r[4][m] for r in ranked]).numpy() for m in modalities}}


def evaluate(model: torch.nn.Module, dataset, label_names: Sequence[str], batch_size: int = 32,
             device: str = "cpu") -> dict[str, Any]:
    out = predict(model, dataset, batch_size, device)
    return classification_metrics(out["y"], out["probs"].argmax(-1), label_names)


def labelled_count(dataset) -> int:
    """How many labelled utterances (``y >= 0``) a dataset holds."""
    store = getattr(dataset, "_data", None)
    if store is not None and getattr(dataset, "_indices", None) is None:     # a whole InMemoryDataset
        return int((store[NODE].y >= 0).sum())
    return sum(int((d[NODE].y >= 0).sum()) for d in dataset)


def check_split(dataset, name: str, model: DialogueModel, label_names: Sequence[str], labelled: bool) -> None:
    """A split the model can read: non-empty, the model's modalities at the training widths, the
    same label set, and (``labelled``) at least one label; one line naming what differs."""
    if len(dataset) == 0:
        raise DialogueValidationError(f"the {name} split is empty" + (
            " (without a dev file, 10% of the training dialogues are held out as dev: give at least two "
            "dialogues or a dev file)" if name == "dev" else ""))
    dims = dataset_dims(dataset)
    for m in model.modalities:
        if m not in dims:
            raise DialogueValidationError(f"the {name} split has no {m!r} features (it has {', '.join(dims)}); "
                                          f"the model reads {', '.join(model.modalities)}")
        if dims[m] != model.in_dims[m]:
            raise DialogueValidationError(
                f"the {name} split's {m!r} features are {dims[m]} wide, the model's {model.in_dims[m]}: "
                f"featurized differently from training")
    names = getattr(dataset, "label_names", None)
    if names is not None and list(names) != list(label_names):
        raise DialogueValidationError(f"the {name} split's labels {list(names)} differ from training's "
                                      f"{list(label_names)}")
    if labelled and labelled_count(dataset) == 0:
        raise DialogueValidationError(f"the {name} split has no labelled utterance")
