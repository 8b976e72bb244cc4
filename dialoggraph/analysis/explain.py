"""What a model attended to in one dialogue: its learned attention over the relation edges
(DiffRGAT in AMB-DSGDN, the DAG attention of DAG-ERC) or its gate values (the gated models),
next to the gold and predicted labels.

    explanation = explain_dialogue(model, dialogue, label_names)
    save_figure(explanation_figure(explanation), "dialogue")

``dialoggraph explain --checkpoint C --dialogue ID`` does both and prints the strongest edges.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import torch
from torch_geometric.data import Batch

from dialoggraph.plotting import pyplot
from dialoggraph.data.dialogue import NODE


@torch.no_grad()
def explain_dialogue(model, dialogue, label_names: Sequence[str], device: str = "cpu") -> dict[str, Any]:
    """Run ``model`` on one dialogue and collect what it exposes.

    Args:
        model: a trained :class:`~dialoggraph.models.DialogueModel`; where its ``forward`` takes
            ``return_attention_weights`` it is asked for them.
        dialogue: one ``HeteroData`` dialogue built with the model's ``pre_transform``.

    Returns:
        ``dialogue`` (id), ``speakers`` (names per utterance), ``gold`` (label names, ``None``
        where unlabelled), ``predicted``, ``probs`` ``[N, C]``, ``edges``
        (``{name: {"source", "target", "weight"}}`` per attention over edges, weights as the
        layer computes them: DiffRGAT's differential attention can be negative) and ``gates``
        (``{name: [N, k]}`` per-utterance gate or fusion values; the mean over a gate's
        features is drawn).
    """
    model.eval()
    batch = Batch.from_data_list([dialogue]).to(device)
    asks = "return_attention_weights" in inspect.signature(model.forward).parameters
    output = model(batch, return_attention_weights=True) if asks else model(batch)
    probs = torch.softmax(output.logits, -1).cpu().numpy()
    store = batch[NODE]
    n = store.num_nodes
    edges, gates = {}, {}
    for name, value in output.attention.items():
        if isinstance(value, tuple):
            edge_index, alpha = value
            alpha = alpha.reshape(alpha.size(0), -1).mean(-1)
            edges[name] = {"source": edge_index[0].tolist(), "target": edge_index[1].tolist(),
                           "weight": alpha.cpu().tolist()}
        elif isinstance(value, torch.Tensor) and value.dim() >= 1 and value.size(0) == n:
            gates[name] = value.reshape(n, -1).cpu().numpy()
    names = [dialogue.speaker_names[s] for s in store.speaker.tolist()]
    return {"dialogue": dialogue.dialogue_id, "speakers": names,
            "gold": [label_names[y] if y >= 0 else None for y in store.y.tolist()],
            "predicted": [label_names[c] for c in probs.argmax(-1)], "probs": probs, "edges": edges, "gates": gates}


def strongest_sources(explanation: dict[str, Any], name: str, k: int = 3) -> list[list[tuple[int, float]]]:
    """For each utterance, the ``k`` incoming edges of edge set ``name`` with the largest
    absolute weight, as ``(source, weight)``; self loops included."""
    edges = explanation["edges"][name]
    incoming: list[list[tuple[int, float]]] = [[] for _ in explanation["speakers"]]
    for j, i, w in zip(edges["source"], edges["target"], edges["weight"]):
        incoming[i].append((j, w))
    return [sorted(row, key=lambda e: -abs(e[1]))[:k] for row in incoming]


def explanation_figure(explanation: dict[str, Any]):
    """One panel per edge attention (arcs from source to target above the utterances, width by
    absolute weight, blue positive and red negative; self loops as rings) and one heat map of
    the gates, over a strip of the utterances coloured by speaker with gold and predicted labels
    (a wrong prediction in red)."""
    plt = pyplot("explain")
    Arc = __import__("matplotlib.patches", fromlist=["Arc"]).Arc
    n = len(explanation["speakers"])
    edge_sets, gates = explanation["edges"], explanation["gates"]
    rows = len(edge_sets) + (1 if gates else 0) or 1
    fig, axes = plt.subplots(rows, 1, figsize=(max(6.0, 0.75 * n + 2), 2.3 * rows + 0.9), squeeze=False)
    speakers = list(dict.fromkeys(explanation["speakers"]))
    colour = {s: f"C{k % 10}" for k, s in enumerate(speakers)}
    for ax, (name, edges) in zip(axes[:, 0], edge_sets.items()):
        weights = np.asarray(edges["weight"], dtype=float)
        scale = np.abs(weights).max() if len(weights) and np.abs(weights).max() > 0 else 1.0
        for j, i, w in zip(edges["source"], edges["target"], weights):
            width, tone = 0.3 + 3.5 * abs(w) / scale, ("tab:blue" if w >= 0 else "tab:red")
            if i == j:
                ax.add_patch(plt.Circle((i, 0.25), 0.18, fill=False, lw=width, color=tone, alpha=0.8))
            else:
                ax.add_patch(Arc(((i + j) / 2, 0.3), abs(i - j), 0.55 * abs(i - j) ** 0.8 + 0.3, theta1=0,
                                 theta2=180, lw=width, color=tone, alpha=0.75))
        _utterance_strip(ax, explanation, colour, n)
        ax.set_title(f"{name}: attention (width = |weight|, blue > 0, red < 0)", fontsize=9)
    if not edge_sets and not gates:
        _utterance_strip(axes[0, 0], explanation, colour, n)
        axes[0, 0].set_title("this model exposes no attention or gates", fontsize=9)
    if gates:
        ax = axes[-1, 0]
        matrix = np.stack([g.mean(-1) for g in gates.values()])
        image = ax.imshow(matrix, aspect="auto", cmap="viridis", extent=(-0.5, n - 0.5, len(gates) - 0.5, -0.5))
        ax.set_yticks(range(len(gates)), list(gates), fontsize=8)
        ax.set_xticks(range(n), [f"{i}\n{g or '-'}\n{p}" for i, (g, p) in
                                 enumerate(zip(explanation["gold"], explanation["predicted"]))], fontsize=7)
        ax.set_title("gates (mean over features); x: utterance, gold, predicted", fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.02)
    handles = [plt.Line2D([], [], marker="o", ls="", color=colour[s], label=s) for s in speakers]
    fig.legend(handles=handles, loc="upper right", fontsize=8, title="speaker", title_fontsize=8)
    fig.suptitle(f"dialogue {explanation['dialogue']}", fontsize=10, x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


def _utterance_strip(ax, explanation: dict[str, Any], colour: dict[str, str], n: int) -> None:
    for i, (who, gold, pred) in enumerate(zip(explanation["speakers"], explanation["gold"],
                                             explanation["predicted"])):
        ax.scatter([i], [0], s=140, color=colour[who], zorder=3, edgecolor="black")
        ax.text(i, -0.35, gold or "-", ha="center", va="top", fontsize=7)
        ax.text(i, -0.75, pred, ha="center", va="top", fontsize=7,
                color="black" if gold in (None, pred) else "red")
    ax.text(-0.9, -0.35, "gold", ha="right", va="top", fontsize=7, style="italic")
    ax.text(-0.9, -0.75, "predicted", ha="right", va="top", fontsize=7, style="italic")
    ax.set_xlim(-1.6, n - 0.4)
    ax.set_ylim(-1.1, 0.55 * max(n - 1, 1) ** 0.8 / 2 + 0.8)
    ax.set_xticks(range(n))
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
