"""How far the context that decides an ambiguous utterance lies, on the synthetic held-out sets.

    python benchmarks/context_reach.py

An ambiguous utterance of the synthetic generator carries no emotion signal; its label is mostly
its speaker's last emotion. The nearest utterance of the same speaker that does carry one
(before or after it) is the evidence a context model has to reach. Prints, per set's test split,
the share of ambiguous utterances whose nearest such utterance lies within w positions, for the
speaker windows w that ``dialoggraph tune`` searches (docs/defaults.md, "AMB-DSGDN's speaker window").
"""
from __future__ import annotations

import torch

from dialoggraph.data.dialogue import NODE
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.models.base import WINDOWS
from heldout_data import SYNTHETIC


def nearest_evidence(speaker: torch.Tensor, ambiguous: torch.Tensor) -> torch.Tensor:
    """Per ambiguous utterance of one dialogue, the distance to the nearest unambiguous utterance of
    its speaker (``inf`` if there is none)."""
    position = torch.arange(speaker.numel())
    distance = (position[:, None] - position[None, :]).abs().float()
    evidence = (speaker[:, None] == speaker[None, :]) & ~ambiguous[None, :]
    return distance.masked_fill(~evidence, float("inf")).min(dim=1).values[ambiguous]


def main() -> None:
    for name, (settings, sizes) in SYNTHETIC.items():
        test = SyntheticDialogues(sizes["test"], "test", **settings)
        reach = torch.cat([nearest_evidence(d[NODE].speaker, d[NODE].ambiguous) for d in test])
        shares = ", ".join(f"<= {w}: {100 * (reach <= w).float().mean():.1f}%" for w in WINDOWS.choices)
        print(f"{name}: {reach.numel()} ambiguous test utterances; nearest evidence {shares}")


if __name__ == "__main__":
    main()
