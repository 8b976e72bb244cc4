"""``dialoggraph featurize``: a transcript table and its media -> a featurized folder."""
from __future__ import annotations

import argparse
from typing import Sequence

from dialoggraph.cli.options import add_config_options, given
from dialoggraph.cli.parser import COMMANDS
from dialoggraph.config import from_dict
from dialoggraph.features.pipeline import ENGINES, FeaturizeConfig, featurize


def add_parser(sub, argv: Sequence[str]) -> None:
    p = sub.add_parser("featurize", help=COMMANDS["featurize"],
                       description="Make text, audio and face features of a transcript table (one row per "
                                   "utterance; docs/data_format.md) and its media, in the folder format that "
                                   "--dataset folder reads, with featurizers.json recording what made them. An "
                                   "interrupted run resumes from its cache when started again.")
    p.add_argument("--transcripts", required=True, help="the transcript CSV")
    p.add_argument("--encoding", default="utf-8", help="the transcript's text encoding (default: utf-8)")
    p.add_argument("--media-root", help="folder the media paths are relative to (default: the CSV's folder)")
    p.add_argument("--out", required=True, help="the folder to write")
    p.add_argument("--labels", help="comma-separated label names in id order (default: the sorted emotions)")
    p.add_argument("--overwrite", action="store_true", help="make an already featurized --out again")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_options(p, FeaturizeConfig, "featurize", "what to make (FeaturizeConfig)")
    add_engine_arguments(p, workers=False)
    p.set_defaults(run=run)


def add_engine_arguments(p: argparse.ArgumentParser, workers: bool = True) -> None:
    """``--engine``, ``--address`` (and ``--workers``): where the features are made."""
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where media and text are encoded: this machine's processes (local, the default) or a "
                        "Ray cluster's actors (ray; pip install \"dialoggraph[ray]\"); the features are the same")
    p.add_argument("--address", help="--engine ray: the cluster to join (e.g. ray://head:10001 or auto; default: "
                                     "a new local one)")
    if workers:
        p.add_argument("--workers", type=int, help="with --transcripts: processes (local) or actors (ray) that "
                                                   "encode (default: as the features were made)")


def run(args: argparse.Namespace) -> None:
    config = from_dict(FeaturizeConfig, given(args, "featurize"), "featurize")
    labels = [name.strip() for name in args.labels.split(",")] if args.labels else None
    record = featurize(args.transcripts, args.out, args.media_root, config, labels, overwrite=args.overwrite,
                       progress=not args.quiet, encoding=args.encoding, engine=args.engine, address=args.address)
    splits = ", ".join(f"{split} {n}" for split, n in record["splits"].items())
    print(f"{record['transcript']['utterances']} utterances in {record['transcript']['dialogues']} dialogues "
          f"({splits}); labels {', '.join(record['label_names'])}")
    for modality, made in record["modalities"].items():
        notes = ""
        if "missing" in made:
            notes = (f"; {made['missing']} without {'audio' if modality == 'audio' else 'a face'} (zero vector, "
                     f"{modality}_present = 0), {made['cut']} cut at the end of their file")
        print(f"{modality}: {made['spec']}, {made['dim']}-d{notes}")
    print(f"wrote {args.out} (featurizers.json says what made each modality)")
