"""Seconds per training epoch of every model at its defaults on MELD-shaped data, next to the BiGRU.

    python benchmarks/epoch_seconds.py [--rounds 3] [--threads 2] [--modalities text] [--preset paper]

MELD's train split in shape: 1039 dialogues of 1-24 utterances (about 12.5k utterances), up to 9
speakers, synthetic features of MELD's widths (text 384-d: the frozen MiniLM features of
docs/results.md; with ``--modalities text audio visual`` also audio 300-d and visual 342-d, the widths
of the community MELD features). Each model is built with its default config (or ``--preset``'s) and
trained with its default optimizer settings for one epoch (forward, loss, backward, AdamW step, batch
16; no evaluation). The models take turns, ``--rounds`` times, and each keeps its median, so a
slow spell of this shared machine falls on all of them; the ratio to the BiGRU measured in the same
run is the figure to compare.
"""
from __future__ import annotations

import argparse
import statistics

import torch
from torch_geometric.loader import DataLoader

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import MODELS
from common import train_epoch
from dialoggraph.train.trainer import TrainConfig, resolve_optimizer, set_seed

DIMS = {"text": 384, "audio": 300, "visual": 342}
ORDER = ["bigru", "mlp", "amb_dsgdn", "dag_erc", "mdget_mer", "mfcre", "lfvd", "cmgfe"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--modalities", nargs="+", default=["text"])
    p.add_argument("--preset", help="a preset every model has (paper): its model config and optimizer settings")
    p.add_argument("--models", nargs="+", default=ORDER)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dims = {m: DIMS[m] for m in args.modalities}
    runs = {}
    for name in args.models:
        cls = MODELS[name]
        preset = cls.presets[args.preset] if args.preset and name not in ("bigru", "mlp") else None
        values = dict(preset.config) if preset else {}
        config = cls.default_config(args.modalities, **values, **({"modalities": tuple(args.modalities)}
                                                                    if "modalities" not in values else {}))
        train = resolve_optimizer(TrainConfig(**{k: v for k, v in (preset.train if preset else {}).items()
                                                 if k in ("lr", "weight_decay")}), cls)
        data = SyntheticDialogues(1039, "train", seed=0, min_len=1, max_len=24, max_speakers=9, dims=dims,
                                  pre_transform=cls.required_transform(config))
        set_seed(0)
        model = cls(dims, data.num_classes, config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
        loader = DataLoader(data, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
        runs[name] = (model, optimizer, loader, [])
        utterances = int(data._data["utterance"].num_nodes)
    for _ in range(args.rounds):
        for name, (model, optimizer, loader, times) in runs.items():
            times.append(train_epoch(model, optimizer, loader))
    base = statistics.median(runs["bigru"][3]) if "bigru" in runs else None
    print(f"torch {torch.__version__}, {args.threads} thread(s); 1039 dialogues, {utterances} utterances; "
          f"{', '.join(f'{m} {d}-d' for m, d in dims.items())}; batch 16; "
          f"{'preset ' + args.preset if args.preset else 'defaults'}; median of {args.rounds} rounds\n")
    print("| model | parameters | s/epoch | x BiGRU |\n| --- | ---: | ---: | ---: |")
    for name, (model, _, _, times) in runs.items():
        seconds = statistics.median(times)
        ratio = f"{seconds / base:.1f}" if base else "-"
        print(f"| {name} | {sum(p.numel() for p in model.parameters()):,} | {seconds:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
