"""Test-time perturbations of one modality: Gaussian noise at a signal-to-noise ratio, the
modality zeroed, or the modality removed. Each is a ``perturb(batch) -> batch`` for
:func:`dialoggraph.train.evaluation.predict`; the batch is changed in place, and the loader builds a
fresh one for every step, so the dataset is untouched.
"""
from __future__ import annotations

from typing import Callable

import torch

from dialoggraph.data.dialogue import NODE


class GaussianNoise:
    r"""Adds white Gaussian noise to one modality at a signal-to-noise ratio, per utterance:

    .. math::
        \tilde x_i = x_i + \sigma_i \epsilon_i,\quad \epsilon_i \sim \mathcal N(0, I),\quad
        \sigma_i^2 = \frac{\tfrac{1}{d}\lVert x_i\rVert^2}{10^{\mathrm{SNR}/10}}

    so the noise power is the utterance's feature power divided by the ratio (``snr_db`` in
    decibels). The noise is drawn from a generator seeded with ``seed``: two passes over the
    same data in the same order see the same noise.

    Args:
        modality: the modality to corrupt.
        snr_db: the signal-to-noise ratio in dB (lower is noisier).
        seed: the noise generator's seed.
    """

    def __init__(self, modality: str, snr_db: float, seed: int = 0):
        self.modality, self.snr_db = modality, float(snr_db)
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, batch):
        x = batch[NODE][f"x_{self.modality}"]
        power = x.pow(2).mean(dim=-1, keepdim=True)
        sigma = (power / 10.0 ** (self.snr_db / 10.0)).sqrt()
        noise = torch.randn(x.shape, generator=self.generator, dtype=x.dtype).to(x.device)
        batch[NODE][f"x_{self.modality}"] = x + sigma * noise
        return batch


def zeroed(modality: str) -> Callable:
    """A perturbation that sets the modality's features to zero (the model still reads them)."""
    def perturb(batch):
        batch[NODE][f"x_{modality}"] = torch.zeros_like(batch[NODE][f"x_{modality}"])
        return batch
    return perturb


def removed(model, modality: str) -> Callable:
    """A perturbation that deletes the modality's features from the batch; refused, in one line,
    for a model that cannot run without them (``runs_without_modality`` False) or that would be
    left with none of its modalities."""
    name = type(model).__name__
    if modality not in model.modalities:
        raise ValueError(f"{name} does not read {modality!r} (it reads {', '.join(model.modalities)})")
    if not type(model).runs_without_modality:
        raise ValueError(f"{name} cannot run without {modality!r}: it needs every modality it was trained "
                         f"on ({', '.join(model.modalities)}); evaluate it with the modality zeroed instead")
    if len(model.modalities) == 1:
        raise ValueError(f"{name} reads only {modality!r}: without it there is nothing to predict from")

    def perturb(batch):
        del batch[NODE][f"x_{modality}"]
        return batch
    return perturb
