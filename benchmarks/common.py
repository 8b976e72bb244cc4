"""Helpers shared by the benchmarks: batch shapes, timing, peak memory in a fresh process."""
from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from types import ModuleType

import numpy as np
import torch


def make_batch(lengths: list[int], max_speakers: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    speakers = [rng.integers(0, max_speakers, n) for n in lengths]
    speaker = torch.from_numpy(np.concatenate(speakers)).long()
    batch = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
    return speaker, batch


def shapes(seed: int = 0) -> dict[str, tuple[list[int], int]]:
    rng = np.random.default_rng(seed)
    meld = list(np.clip(rng.geometric(1 / 10, 32), 1, 33))
    meld[0] = 33
    iemocap = list(np.clip(rng.normal(48, 25, 16).round().astype(int), 10, 110))
    iemocap[0] = 110
    long = list(rng.integers(500, 1001, 8))
    long[0] = 1000
    return {"MELD-shaped (32 dlg, max 33, 9 spk)": ([int(n) for n in meld], 9),
            "IEMOCAP-shaped (16 dlg, max 110, 2 spk)": ([int(n) for n in iemocap], 2),
            "long (8 dlg, up to 1000)": ([int(n) for n in long], 2)}


def train_epoch(model, optimizer, loader) -> float:
    """Seconds of one training pass (forward, loss, backward, optimizer step; no evaluation)."""
    from dialoggraph.train.trainer import training_loss
    model.train()
    start = time.perf_counter()
    for batch in loader:
        loss = training_loss(model(batch), batch["utterance"].y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def time_it(fn, *args, repeat: int) -> float:
    fn(*args)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory_here(fn, *args) -> int:
    """Bytes the resident set's high-water mark grows by while ``fn(*args)`` runs (Linux).

    Resets the kernel's high-water mark (``/proc/self/clear_refs``) first, so
    every intermediate of the call counts, not just its output.
    """
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    out = fn(*args)
    peak = _status_kib("VmHWM")
    del out
    return max(0, peak - before) * 1024


def peak_memory(script: str, *what: str, options: tuple[str, ...] = ()) -> int | None:
    """:func:`peak_memory_here` of ``script --memory-of WHAT... OPTIONS...`` in a fresh process.

    ``script`` must answer ``--memory-of`` by printing :func:`peak_memory_here`.

    A fresh process, with glibc serving every allocation above 4 KiB by mmap,
    so memory freed before the call cannot hide what the call needs.
    """
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "4096"}
    out = subprocess.run([sys.executable, script, "--memory-of", *what, *options], env=env,
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def cuda_is_identity():
    """``.cuda()`` on tensors and modules returns them unchanged (the authors' code calls it
    unconditionally in places)."""
    saved = torch.Tensor.cuda, torch.nn.Module.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    torch.nn.Module.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda, torch.nn.Module.cuda = saved


#: DAG-ERC's ``model.py`` imports ``AutoModelWithLMHead``, which current ``transformers`` releases no
#: longer have, for its BERT variant only: the import sees placeholders (the GNN never uses them).
TRANSFORMERS_PLACEHOLDERS = {"transformers": {n: None for n in ("BertModel", "BertConfig", "AutoTokenizer",
                                                                 "AutoModelWithLMHead")}}


def _scatter_add(src, index, dim=0, dim_size=None):
    """torch_scatter's ``scatter_add`` through PyG's ``scatter`` (torch-scatter is optional here)."""
    from torch_geometric.utils import scatter
    return scatter(src, index, dim, dim_size=dim_size, reduce="sum")


#: DialogueCRN's (and MFCRE's) ``model.py`` import ``torch_scatter.scatter_add``.
TORCH_SCATTER = {"torch_scatter": {"scatter_add": _scatter_add}}


def load_module(folder: str, name: str, stand_ins: dict[str, dict] | None = None):
    """Import ``folder/name.py`` (the authors' file, unchanged) with ``folder`` on the path; a
    ``.cuda()`` call at import time returns its input (:func:`cuda_is_identity`).

    ``stand_ins``: modules the import sees instead of the installed ones (name -> attributes),
    for imports the environment lacks or that moved (:data:`TRANSFORMERS_PLACEHOLDERS`,
    :data:`TORCH_SCATTER`); the real modules are restored afterwards."""
    stand_ins = stand_ins or {}
    sys.path.insert(0, folder)
    saved = {module: sys.modules.get(module) for module in stand_ins}
    for module, attributes in stand_ins.items():
        stand_in = ModuleType(module)
        for attribute, value in attributes.items():
            setattr(stand_in, attribute, value)
        sys.modules[module] = stand_in
    try:
        spec = importlib.util.spec_from_file_location(f"original_{os.path.basename(folder)}_{name}",
                                                      os.path.join(folder, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        with cuda_is_identity():
            spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(folder)
        for module, real in saved.items():
            if real is None:
                sys.modules.pop(module, None)
            else:
                sys.modules[module] = real
