"""Graph builders vs the seed code bases' per-dialogue Python loops.

Times ``speaker_window_edges`` and ``dag_edges`` against the loops that build a
dense ``[B, L, L]`` relation matrix in the seed models' collate functions
(AMB-DSGDN's eqs. 7-8 matrix; DAG-ERC's adjacency + same-speaker mask), on
MELD-shaped, IEMOCAP-shaped and long batches, single thread.

The seed-style loops visit every ``(i, j)`` pair of the dense matrix with
torch element writes, as the seed code does; a second, generous loop (numpy
writes, window pairs only) is timed too, so both ratios are on record. Peak
memory is the growth of the resident set's high-water mark during one build
(reset through ``/proc/self/clear_refs``), so it counts every intermediate.

    python benchmarks/graph_builders.py [--repeat 5] [--meld-root ../shared/data/meld]
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from common import make_batch, peak_memory, peak_memory_here, shapes, time_it

from dialoggraph.graphs import dag_edges, speaker_window_edges

WINDOW = 5


def _relation(s_i, s_j, i: int, j: int, window: int) -> int:
    """AMB-DSGDN's eqs. 7-8 label of one (target i, source j) pair (0: no edge)."""
    if abs(i - j) > window:
        return 0
    if i == j:
        return 1
    if s_i == s_j:
        return 2 if j < i else 3
    return 5 if j < i else 4


def loop_relation_matrix(speaker: torch.Tensor, batch: torch.Tensor, window: int = WINDOW) -> torch.Tensor:
    """As the seed code's collate writes it: a dense [B, L, L] tensor, every (i, j) pair visited."""
    lengths = torch.bincount(batch).tolist()
    max_len = max(lengths)
    adj = torch.zeros(len(lengths), max_len, max_len, dtype=torch.long)
    for b, s in enumerate(speaker.split(lengths)):
        for i in range(len(s)):
            for j in range(len(s)):
                rel = _relation(s[i], s[j], i, j, window)
                if rel:
                    adj[b, i, j] = rel
    return adj


def loop_relation_matrix_numpy(speaker: torch.Tensor, batch: torch.Tensor, window: int = WINDOW) -> torch.Tensor:
    """A generous loop: numpy element writes and only the window's pairs visited."""
    speaker_np = speaker.numpy()
    lengths = np.bincount(batch.numpy())
    max_len = int(lengths.max())
    adj = np.zeros((len(lengths), max_len, max_len), dtype=np.int64)
    start = 0
    for b, n in enumerate(lengths):
        s = speaker_np[start:start + n]
        for i in range(n):
            for j in range(max(0, i - window), min(n, i + window + 1)):
                adj[b, i, j] = _relation(s[i], s[j], i, j, window)
        start += n
    return torch.from_numpy(adj)


def loop_dag_matrix(speaker: torch.Tensor, batch: torch.Tensor, window: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """DAG-ERC's collate: dense adjacency and same-speaker mask, walking back from each utterance."""
    lengths = torch.bincount(batch).tolist()
    max_len = max(lengths)
    adj = torch.zeros(len(lengths), max_len, max_len)
    same = torch.zeros(len(lengths), max_len, max_len)
    for b, s in enumerate(speaker.split(lengths)):
        for i in range(len(s)):
            count = 0
            for j in range(i - 1, -1, -1):
                adj[b, i, j] = 1
                if s[i] == s[j]:
                    same[b, i, j] = 1
                    count += 1
                    if count == window:
                        break
    return adj, same


METHODS = {
    "speaker_window_edges": lambda s, b: speaker_window_edges(s, b, WINDOW, WINDOW),
    "loop: dense relation matrix": loop_relation_matrix,
    "loop, numpy, window pairs only": loop_relation_matrix_numpy,
    "dag_edges": lambda s, b: dag_edges(s, b, 1),
    "loop: DAG-ERC dense adjacency": loop_dag_matrix,
}


def meld_train_speakers(root: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    from dialoggraph.datasets import MELD
    path = os.path.join(root, "train_sent_emo.csv")
    if not os.path.exists(path):
        return None
    import tempfile
    ds = MELD(root, "train", text_features="{split}_sent_emo.minilm.npy", cache_dir=tempfile.mkdtemp())
    lengths = torch.tensor([d["utterance"].num_nodes for d in ds])
    return ds._data["utterance"].speaker, torch.repeat_interleave(torch.arange(len(ds)), lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--meld-root", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                            "shared", "data", "meld"))
    parser.add_argument("--memory-of", nargs=2, metavar=("SHAPE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.memory_of:
        shape, method = args.memory_of
        speaker, batch = make_batch(*shapes()[shape], 0)
        METHODS[method](speaker[:2], batch[:2])  # load the code paths before measuring
        print(peak_memory_here(METHODS[method], speaker, batch))
        return
    print(f"torch {torch.__version__}, 1 thread, median of {args.repeat}; window {WINDOW}/{WINDOW}, "
          f"DAG window 1\n")
    header = f"{'batch':42} {'method':30} {'edges':>9} {'time ms':>10} {'Medges/s':>9} {'speed-up':>11} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for name, (lengths, max_speakers) in shapes().items():
        speaker, batch = make_batch(lengths, max_speakers, 0)
        results = {}
        for method, fn in METHODS.items():
            seconds = time_it(fn, speaker, batch, repeat=args.repeat if "loop" not in method else
                              max(1, args.repeat // 2))
            out = fn(speaker, batch)
            edges = out[0].size(1) if "loop" not in method else None
            results[method] = (seconds, edges, peak_memory(__file__, name, method))
        for fast, slows in (("speaker_window_edges", ("loop: dense relation matrix",
                                                      "loop, numpy, window pairs only")),
                            ("dag_edges", ("loop: DAG-ERC dense adjacency",))):
            for method in (fast, *slows):
                seconds, edges, peak = results[method]
                rate = f"{edges / seconds / 1e6:9.1f}" if edges else f"{'':9}"
                speedup = (" / ".join(f"{results[s][0] / seconds:.0f}x" for s in slows)
                           if method == fast else "")
                memory = f"{peak / 2**20:9.2f}" if peak is not None else "      n/a"
                print(f"{name:42} {method:30} {edges or '':>9} {seconds * 1e3:10.3f} {rate} "
                      f"{speedup:>11} {memory}")
        print(f"{'':42} ({sum(lengths)} utterances, max length {max(lengths)})")

    meld = meld_train_speakers(args.meld_root)
    if meld is not None:
        speaker, batch = meld
        whole = time_it(lambda: speaker_window_edges(speaker, batch, WINDOW, WINDOW), repeat=args.repeat)
        from dialoggraph.data import make_dialogue
        from dialoggraph.transforms import SpeakerWindowGraph
        counts = torch.bincount(batch).tolist()
        dialogues = [make_dialogue(s.tolist(), dialogue_id=str(i), text=torch.zeros(len(s), 1))
                     for i, s in enumerate(speaker.split(counts))]
        transform = SpeakerWindowGraph(WINDOW, WINDOW)
        per_dialogue = time_it(lambda: [transform(d) for d in dialogues], repeat=max(1, args.repeat // 2))
        print(f"\nall of MELD train ({len(counts)} dialogues, {speaker.numel()} utterances): "
              f"one batched call {whole * 1e3:.1f} ms; SpeakerWindowGraph as pre_transform, dialogue "
              f"by dialogue {per_dialogue * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
