"""Peak memory of one training step on a batch holding one long dialogue, per model (CPU or a GPU).

Each (model, length) runs in a fresh process: a synthetic dialogue of L utterances (4
speakers; text 1024-d, audio 300-d, visual 342-d, the MELD feature sizes) with the edges
the model reads, one forward + backward of the training loss with the model's default
(paper) config, and the process's peak resident memory (``ru_maxrss``) minus its size just
before the step (torch, the model, the data). The goal: under 4 GB at L = 2000.

    python benchmarks/long_dialogue_memory.py [--lengths 500 1000 2000] [--models amb_dsgdn ...] [--mmap]
        [--device cuda] [--json OUT.json]

On a GPU (``--device cuda``) the step runs there and its peak is ``torch.cuda.max_memory_allocated``
over the step, minus the memory allocated before it (the model and the batch).

With glibc's default allocator the resident peak also holds freed memory the heap keeps
(fragmentation), which varies from run to run by up to 2 GB at L = 2000. ``--mmap`` runs each
step with ``MALLOC_MMAP_THRESHOLD_=65536``: every allocation above 64 KiB is its own mapping,
returned on free, so the peak is that of the live tensors and repeats from run to run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

DIMS = {"text": 1024, "audio": 300, "visual": 342}


def one(model: str, length: int, device: str = "cpu") -> dict:
    import torch
    from torch_geometric.loader import DataLoader

    from dialoggraph.datasets import SyntheticDialogues
    from dialoggraph.models import MODELS
    from dialoggraph.train.trainer import training_loss

    torch.set_num_threads(2)
    cls = MODELS[model]
    config = cls.Config(modalities=("text", "audio", "visual"))
    data = SyntheticDialogues(1, "train", seed=0, min_len=length, max_len=length, dims=DIMS,
                              pre_transform=cls.required_transform(config))
    batch = next(iter(DataLoader(data, batch_size=1))).to(device)
    net = cls(DIMS, data.num_classes, config).to(device).train()
    net.set_epoch(10 ** 6)                               # every training-time branch on (AMB's modality dropout)
    gpu = device.startswith("cuda")
    if gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2 ** 20
    else:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    training_loss(net(batch), batch["utterance"].y).backward()
    if gpu:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if gpu else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": model, "length": length, "device": device, "step_mb": peak - before, "peak_mb": peak,
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--models", nargs="+")
    parser.add_argument("--mmap", action="store_true",
                        help="every allocation above 64 KiB its own mapping: the live tensors' peak")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda: the step on the GPU, its allocated peak")
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "LENGTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.device)))
        return
    from dialoggraph.models import MODELS
    models = args.models or sorted(MODELS)
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"} if args.mmap else None
    print(f"{'model':10} " + " ".join(f"{'L=' + str(n):>22}" for n in args.lengths))
    print(f"{'':10} " + " ".join(f"{'step MB / peak MB / s':>22}" for _ in args.lengths))
    rows = []
    for model in models:
        cells = []
        for length in args.lengths:
            done = subprocess.run([sys.executable, __file__, "--one", model, str(length), "--device", args.device],
                                  capture_output=True, text=True, env=environment)
            if done.returncode != 0:
                cells.append(f"{'failed (' + str(done.returncode) + ')':>22}")
                rows.append({"model": model, "length": length, "device": args.device, "failed": done.returncode})
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(r)
            cells.append(f"{r['step_mb']:7.0f} /{r['peak_mb']:6.0f} /{r['seconds']:5.1f}")
        print(f"{model:10} " + " ".join(cells), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
