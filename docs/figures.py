"""Draws the pictures in docs/img (python docs/figures.py)."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from dialoggraph.data import make_dialogue  # noqa: E402
from dialoggraph.graphs import draw_relation_graph  # noqa: E402
from dialoggraph.transforms import SpeakerWindowGraph  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

dialogue = make_dialogue(["Ann", "Bob", "Ann", "Ann", "Cy", "Bob"],
                         ["neutral", "joy", "joy", "anger", "anger", "neutral"], "example",
                         labels=["neutral", "joy", "anger"], text=torch.zeros(6, 1))
dialogue = SpeakerWindowGraph(past=2, future=1)(dialogue)
fig, ax = plt.subplots(figsize=(8, 3.8))
draw_relation_graph(dialogue, ax, label_names=["neutral", "joy", "anger"])
ax.set_title("SpeakerWindowGraph(past=2, future=1): relation edges, target <- source")
fig.tight_layout()
fig.savefig(os.path.join(HERE, "img", "relation_edges.png"), dpi=120)
