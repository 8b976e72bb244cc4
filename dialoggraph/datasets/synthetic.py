"""The embedded default: synthetic tri-modal dialogues with planted conversation dynamics."""
from __future__ import annotations

import zlib
from typing import Callable, Sequence

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

from dialoggraph.data.dialogue import make_dialogue
from dialoggraph.datasets.base import SPLITS

EMOTIONS = ["neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger"]
PRIOR = np.array([0.30, 0.12, 0.06, 0.10, 0.20, 0.07, 0.15])
DIMS = {"text": 128, "audio": 64, "visual": 64}
SEPARATION = {"text": 3.0, "audio": 2.0, "visual": 1.2}


class SyntheticDialogues(InMemoryDataset):
    r"""Deterministic synthetic dialogues in which context matters.

    The generative process (documented in docs/datasets.md):

    1. *Turns.* A dialogue has ``L ~ U{min_len, max_len}`` utterances and
       ``S ~ U{2, max_speakers}`` speakers drawn from a pool of
       ``num_global_speakers``; the next turn goes to another speaker with
       probability ``p_switch``.
    2. *Emotions.* The first utterance's emotion is drawn from a MELD-like
       prior. Afterwards, with probability ``p_keep`` the speaker keeps their
       own last emotion (intra-speaker continuity), with probability
       ``p_spread`` they take the previous utterance's emotion (inter-speaker
       contagion), otherwise the emotion is redrawn from the prior (a shift).
    3. *Features.* Each modality ``m`` has one prototype per emotion
       ``mu_m[c]``, with pairwise distance ``separation[m]`` (in noise standard
       deviations: text strongest, visual weakest), and each global speaker a
       style vector of norm 1. An utterance is *ambiguous* with probability
       ``p_ambiguous``: it carries no emotion signal in any modality. Otherwise
       ``x_m = mu_m[y] + style_m[speaker] + eps`` with ``eps ~ N(0, I)``;
       ambiguous ones are ``style_m[speaker] + eps``.

    Ambiguous utterances can only be recognised from their context, so a
    context-aware model beats a per-utterance one by a wide margin.
    Prototypes and styles depend on ``seed`` only; the dialogues of each
    split come from their own stream, so splits differ but share the task.

    Args:
        num_dialogues: how many dialogues.
        split: ``"train"``, ``"dev"`` or ``"test"``.
        seed: the task seed.
        dims: feature size per modality (default text 128, audio 64, visual 64).
        separation: prototype distance per modality.
        transform, pre_transform: as in PyG datasets (``pre_transform`` runs once).
    """

    def __init__(self, num_dialogues: int = 400, split: str = "train", seed: int = 0,
                 min_len: int = 4, max_len: int = 24, max_speakers: int = 4,
                 num_global_speakers: int = 20, p_switch: float = 0.8, p_keep: float = 0.75,
                 p_spread: float = 0.2, p_ambiguous: float = 0.4,
                 dims: dict[str, int] | None = None, separation: dict[str, float] | None = None,
                 modalities: Sequence[str] | None = None,
                 transform: Callable | None = None, pre_transform: Callable | None = None):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        if num_dialogues < 1 or not 1 <= min_len <= max_len or max_speakers < 1:
            raise ValueError("need num_dialogues >= 1, 1 <= min_len <= max_len, max_speakers >= 1")
        if not 0 <= p_keep + p_spread <= 1:
            raise ValueError("p_keep + p_spread must lie in [0, 1]")
        dims = dict(DIMS if dims is None else dims)
        separation = {**SEPARATION, **(separation or {})}
        selected = tuple(dims) if modalities is None else tuple(modalities)
        unknown = [m for m in selected if m not in dims]
        if unknown or not selected:
            raise ValueError(f"modalities must be a non-empty subset of {', '.join(dims)}")
        super().__init__(None, transform)
        self.split = split
        self.label_names = list(EMOTIONS)
        self.modalities = selected
        self.meta = {"label_names": self.label_names, "modalities": list(selected),
                     "feature_dims": {m: dims[m] for m in selected}, "seed": seed}

        prototypes, styles = {}, {}
        for m, d in dims.items():
            # One stream per modality name: the task does not change with the selection.
            task = np.random.default_rng([seed, zlib.crc32(m.encode())])
            directions = task.standard_normal((len(EMOTIONS), d))
            directions /= np.linalg.norm(directions, axis=1, keepdims=True)
            prototypes[m] = directions * separation.get(m, 1.0) / np.sqrt(2.0)
            style = task.standard_normal((num_global_speakers, d))
            styles[m] = style / np.linalg.norm(style, axis=1, keepdims=True)

        rng = np.random.default_rng([seed, SPLITS.index(split)])
        data_list = []
        for index in range(num_dialogues):
            length = int(rng.integers(min_len, max_len + 1))
            cast = rng.choice(num_global_speakers, size=int(rng.integers(2, max_speakers + 1))
                              if max_speakers >= 2 else 1, replace=False)
            turns = np.empty(length, dtype=np.int64)
            labels = np.empty(length, dtype=np.int64)
            last: dict[int, int] = {}
            turns[0] = 0
            for t in range(length):
                if t > 0:
                    turns[t] = turns[t - 1]
                    if len(cast) > 1 and rng.random() < p_switch:
                        others = [s for s in range(len(cast)) if s != turns[t - 1]]
                        turns[t] = others[int(rng.integers(len(others)))]
                r = rng.random()
                speaker = int(turns[t])
                if t > 0 and r < p_keep and speaker in last:
                    labels[t] = last[speaker]
                elif t > 0 and r < p_keep + p_spread:
                    labels[t] = labels[t - 1]
                else:
                    labels[t] = rng.choice(len(EMOTIONS), p=PRIOR)
                last[speaker] = int(labels[t])
            visible = (rng.random(length) >= p_ambiguous)[:, None]
            who = cast[turns]
            # Every modality is drawn, then the selection kept: the stream does not depend on it.
            features = {m: (prototypes[m][labels] * visible + styles[m][who]
                            + rng.standard_normal((length, d))).astype(np.float32)
                        for m, d in dims.items()}
            features = {m: features[m] for m in selected}
            data = make_dialogue([f"speaker{g}" for g in who], labels, f"{split}_{index}",
                                 labels=EMOTIONS, speaker_global=who, **features)
            data["utterance"].ambiguous = torch.from_numpy(~visible[:, 0])
            if pre_transform is not None:
                data = pre_transform(data)
            data_list.append(data)
        self.data, self.slices = self.collate(data_list)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, split={self.split!r})"

