"""DAG-ERC's recurrence under two schedules: the matmuls of a layer-by-layer walk against a wavefront.

    python benchmarks/dag_schedules.py [--shapes MELD IEMOCAP long] [--rounds 7] [--threads 2]

Layer ``l`` at topological level ``p`` needs layer ``l - 1`` at level ``p`` and layer ``l`` at the
levels before ``p``. Two schedules respect that:

* **the walk** (``DAGConv``, and the authors' code one position at a time): layer after layer,
  level after level, ``layers x levels`` steps. The maps that read the previous layer (the node
  cell's input gates, the context cell's hidden gates, the query) are one matmul over all nodes per
  layer; per level, the message gates and the relation maps and key score of the new states.
* **a wavefront**: step ``s`` advances every layer ``l`` at level ``s - l`` at once,
  ``levels + layers - 1`` steps. Each layer's per-level maps are one batched matmul over the
  active layers (rows padded to the longest), or one matmul per active layer. The maps that read
  the previous layer cannot run once over all nodes any more, since that layer's states appear
  during the walk: they run on each level's rows, beside the relation maps of the state they read.

Times the forward matmuls of each schedule at DAG-ERC's paper sizes (hidden 300, 4 layers) on the
topological levels of ``vs_original.py``'s batches, interleaved, medians of ``--rounds``. Nothing
else of the layer runs: this bounds what each schedule's matmuls cost, not a layer.
"""
from __future__ import annotations

import argparse

import torch

from dialoggraph.data.dialogue import DAG, NODE
from dialoggraph.models import DAGERC
from dialoggraph.nn.conv.dag_conv import DAGSchedule
from vs_original import SHAPES, dialogues, median_seconds


def schedules(level_sizes: list[int], channels: int, layers: int) -> dict:
    """The three schedules' forward matmuls as functions, on random states and weights of DAG-ERC's
    sizes: ``before`` ``[C, 6C + 1]``, message gates ``[C, 6C]``, relation maps and key ``[C, 2C + 1]``."""
    C, levels, N = channels, len(level_sizes), sum(level_sizes)
    before = [torch.randn(C, 6 * C + 1) for _ in range(layers)]
    message = [torch.randn(C, 6 * C) for _ in range(layers)]
    value = [torch.randn(C, 2 * C + 1) for _ in range(layers)]
    # In the wavefront a new state's relation maps and the next layer's gates that read it are one map.
    value_next = [torch.cat([value[l], before[l + 1]], 1) for l in range(layers - 1)] + [value[-1]]
    stacked_message, stacked_value_next = torch.stack(message), torch.stack(value_next[:-1])
    states = torch.randn(N, C)
    padded = torch.randn(layers, max(level_sizes), C)
    bounds = torch.tensor([0, *level_sizes]).cumsum(0).tolist()
    rows = [states[bounds[p]:bounds[p + 1]] for p in range(levels)]

    def walk():
        for l in range(layers):
            states @ before[l]
            for level in rows:
                level @ message[l]
                level @ value[l]

    def active(step: int) -> list[int]:
        return [l for l in range(layers) if 0 <= step - l < levels]

    def wavefront_batched():
        states @ before[0]
        for step in range(levels + layers - 1):
            on = active(step)
            first, last, height = on[0], on[-1] + 1, level_sizes[step - on[0]]   # lower layers, earlier levels, more rows
            x = padded[first:last, :height]
            torch.bmm(x, stacked_message[first:last])
            below_top = min(last, layers - 1)                          # layers whose states a next layer reads
            if first < below_top:
                torch.bmm(x[:below_top - first], stacked_value_next[first:below_top])
            if last == layers:                                         # the top layer: its relation maps only
                x[-1] @ value[-1]

    def wavefront_separate():
        states @ before[0]
        for step in range(levels + layers - 1):
            for l in active(step):
                rows[step - l] @ message[l]
                rows[step - l] @ value_next[l]

    return {"walk": walk, "wavefront, batched": wavefront_batched, "wavefront, per layer": wavefront_separate}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = DAGERC.preset("paper")
    print(f"{args.threads} threads, float32, hidden {config.hidden}, {config.num_layers} layers; "
          f"forward matmuls only, median of {args.rounds} interleaved rounds")
    print("| shape | levels | utterances | schedule | steps | ms | / walk |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for shape in args.shapes:
        batch = dialogues(shape, DAGERC.required_transform(config), {"text": 1024})
        sizes = DAGSchedule.build(batch[DAG].edge_index, batch[DAG].same_speaker, batch[NODE].batch,
                                  batch[NODE].num_nodes).level_sizes
        with torch.no_grad():
            times = median_seconds(schedules(sizes, config.hidden, config.num_layers), args.rounds, "cpu")
        for name, t in times.items():
            steps = config.num_layers * len(sizes) if name == "walk" else len(sizes) + config.num_layers - 1
            print(f"| {shape} | {len(sizes)} | {sum(sizes)} | {name} | {steps} | {1000 * t:.1f} | "
                  f"{t / times['walk']:.2f}x |", flush=True)

if __name__ == "__main__":
    main()
