"""``dialoggraph predict``: per-utterance predictions of a checkpoint to a CSV, on a split of its
data or on raw input (``--transcripts``: a transcript table and its media, featurized with the
featurizers the model was trained with)."""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import os
import tempfile
from typing import Sequence

from dialoggraph.cli.errors import CLIError
from dialoggraph.cli.evaluate import add_checkpoint_arguments, checkpoint_and_data
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.datasets.folder import DialogueFolder
from dialoggraph.io import atomic_write
from dialoggraph.features.pipeline import RECORD, featurize
from dialoggraph.features.transcript import read_transcript
from dialoggraph.models import resolve_model
from dialoggraph.train.engine import check_split, model_from_checkpoint, predict


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("predict", help=COMMANDS["predict"])
    add_checkpoint_arguments(p, "the CSV to write", True)
    p.add_argument("--transcripts", help="predict on this transcript table (and its media) instead of a data "
                                         "split: featurized with the featurizers the model was trained with")
    p.add_argument("--encoding", default="utf-8", help="with --transcripts: its text encoding (default: utf-8)")
    p.add_argument("--media-root", help="with --transcripts: the folder media paths are relative to "
                                        "(default: the CSV's folder)")
    p.set_defaults(run=run)


def featurizers_of(checkpoint: str, state: dict) -> str:
    """The folder holding the ``featurizers.json`` a checkpoint was trained with: its run folder
    (``train`` keeps a copy there), the run folder of its seeds, or the data folder it names."""
    here = os.path.dirname(os.path.abspath(checkpoint))
    data = (state.get("run") or {}).get("data") or {}
    for folder in (here, os.path.dirname(here), data.get("root") if data.get("dataset") == "folder" else None):
        if folder and os.path.exists(os.path.join(folder, RECORD)):
            return folder
    raise CLIError(f"{checkpoint}: no {RECORD} beside it or in its data folder: --transcripts needs a model "
                   f"trained on a folder made by dialoggraph featurize")


def media_cache(state: dict, tmp: str) -> str:
    """Where predict keeps media vectors: the featurized data folder's ``.cache`` when the model was
    trained on one that can be written (recordings featurized there are not decoded again), else a
    folder in ``tmp``."""
    data = (state.get("run") or {}).get("data") or {}
    if data.get("dataset") == "folder" and data.get("root"):
        cache = os.path.join(data["root"], ".cache")
        if os.path.isdir(cache) and os.access(cache, os.W_OK):
            return cache
    return os.path.join(tmp, "cache-media")


def raw_input(args: argparse.Namespace, tmp: str):
    """The model, its checkpoint, the transcripts featurized (in the folder ``tmp``) as the model's
    training data was, and the utterances in the order of the dataset's rows."""
    model, state = model_from_checkpoint(args.checkpoint, args.device)
    fitted = featurizers_of(args.checkpoint, state)
    utterances = [dataclasses.replace(u, split="test") for u in read_transcript(args.transcripts, args.encoding)]
    media_root = args.media_root or os.path.dirname(os.path.abspath(args.transcripts))
    record = featurize(utterances, os.path.join(tmp, "features"), media_root, fitted=fitted,
                       source=args.transcripts, cache=media_cache(state, tmp))
    if record["label_names"] != list(state["label_names"]):
        raise CLIError(f"{fitted}: its labels {record['label_names']} are not the checkpoint's "
                       f"{state['label_names']}")
    dataset = DialogueFolder(os.path.join(tmp, "features"), "test", cache_dir=os.path.join(tmp, "cache"),
                             pre_transform=resolve_model(state["model"]).required_transform(model.config))
    try:
        check_split(dataset, "test", model, state["label_names"], labelled=False)
    except DialogueValidationError as exc:
        raise CLIError(f"{args.checkpoint} on {args.transcripts}: {exc}") from None
    return model, state, dataset, utterances


def run(args: argparse.Namespace) -> None:
    if args.transcripts:
        with tempfile.TemporaryDirectory(prefix="dialoggraph-predict-") as tmp:
            model, state, dataset, utterances = raw_input(args, tmp)
            out = predict(model, dataset, device=args.device)
    else:
        model, state, dataset = checkpoint_and_data(args)
        utterances = None
        out = predict(model, dataset, device=args.device)
    names = state["label_names"]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["dialogue", "utterance", "speaker"] + (["text"] if utterances else [])
                    + ["label", "predicted"] + [f"p_{n}" for n in names])
    row = 0
    for dialogue, speakers in zip(out["dialogues"], out["speakers"]):
        for index, speaker in enumerate(speakers):
            y = int(out["y"][row])
            probs = out["probs"][row]
            said = [utterances[row].index, speaker, utterances[row].text] if utterances else [index, speaker]
            writer.writerow([dialogue, *said, names[y] if y >= 0 else "", names[int(probs.argmax())]]
                            + [f"{p:.6f}" for p in probs])
            row += 1
    atomic_write(args.out, lambda f: f.write(text.getvalue().encode()))
    print(f"wrote {row} predictions to {args.out}")
