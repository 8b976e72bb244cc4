"""AMB-DSGDN training throughput on MELD-shaped synthetic data (CPU).

1039 train dialogues of 1-18 utterances (about 10k utterances), text 1024-d,
audio 300-d, visual 342-d, hidden 512, batch 16, window 5 (preset ``paper``) -- the sizes of
MELD with the paper's RoBERTa / OpenSmile / DenseNet features. Reports:

* training utterances per second and the time of one epoch (forward,
  backward, AdamW step; no evaluation);
* the time to build every dialogue's graphs, which happens once, in the
  dataset's ``pre_transform``, and its share of one epoch (target < 2%);
* the share of an epoch spent in the DiffRGAT blocks, measured as the
  difference to the same model with ``graph_layer="none"`` in the same run.

    python benchmarks/train_throughput.py [--epochs 1] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch_geometric.loader import DataLoader

from common import train_epoch
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models import AMBDSGDN, AMBDSGDNConfig
from dialoggraph.train.trainer import set_seed
from dialoggraph.transforms import SpeakerWindowGraph

DIMS = {"text": 1024, "audio": 300, "visual": 342}


def epoch_time(dataset, config: AMBDSGDNConfig, epochs: int) -> float:
    set_seed(0)
    model = AMBDSGDN(DIMS, dataset.num_classes, config).train()
    model.set_epoch(config.warmup_epochs)           # modality dropout on, as in the paper's later epochs
    optimizer = torch.optim.AdamW(model.parameters(), **AMBDSGDN.presets["paper"].train)
    loader = DataLoader(dataset, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    return min(train_epoch(model, optimizer, loader) for _ in range(epochs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per setting (the best is kept)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    raw = SyntheticDialogues(1039, "train", seed=0, min_len=1, max_len=18, max_speakers=6, dims=DIMS)
    dialogues = [raw[i] for i in range(len(raw))]
    transform = SpeakerWindowGraph(5, 5)
    start = time.perf_counter()
    with_graphs = [transform(d.clone()) for d in dialogues]
    build = time.perf_counter() - start
    dataset = SyntheticDialogues(1039, "train", seed=0, min_len=1, max_len=18, max_speakers=6, dims=DIMS,
                                 pre_transform=transform)
    utterances = int(dataset._data["utterance"].num_nodes)
    assert len(with_graphs) == len(dataset)

    full = epoch_time(dataset, AMBDSGDN.preset("paper"), args.epochs)
    no_graph = epoch_time(dataset, AMBDSGDN.preset("paper", graph_layer="none"), args.epochs)
    print(f"torch {torch.__version__}, {args.threads} thread(s); {len(dataset)} dialogues, {utterances} "
          f"utterances; text 1024-d, audio 300-d, visual 342-d; hidden 512, batch 16\n")
    print(f"AMB-DSGDN epoch:                    {full:8.2f} s   {utterances / full:8.0f} utterances/s")
    print(f"same model, graph_layer='none':     {no_graph:8.2f} s   {utterances / no_graph:8.0f} utterances/s")
    print(f"DiffRGAT blocks (the difference):   {full - no_graph:8.2f} s   {(full - no_graph) / full:8.1%} of an epoch")
    print(f"building all graphs (pre_transform, once): {build * 1e3:.1f} ms = {build / full:.2%} of one epoch; "
          f"0 ms per training step")


if __name__ == "__main__":
    main()
