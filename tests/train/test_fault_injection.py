"""Kill -9 at chosen and random points of training and caching, then resume / re-run: nothing
half-written is ever read and the result equals the uninterrupted one.

The child processes kill themselves with SIGKILL right before the n-th atomic rename
(``os.replace``) of a run or a cache (the moments a half-written file could appear), or
the test kills them after a random delay.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import write_folder
from dialoggraph.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

# Run dialoggraph in a child that SIGKILLs itself before the FAULT_AT-th os.replace.
CHILD = """
import os, signal, sys
import dialoggraph.io as io
at = int(os.environ.get("FAULT_AT", "0"))
real = os.replace
count = [0]
def replace(src, dst):
    count[0] += 1
    if count[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
io.os.replace = replace
sys.argv[0] = "dialoggraph"
from dialoggraph.cli import main
sys.exit(main(sys.argv[1:]))
"""
TRAIN = ["train", "--model", "amb_dsgdn", "--hidden", "16", "--graph-heads", "2", "--heads", "2",
         "--warmup-epochs", "1", "--lr", "1e-3", "--modalities", "text,audio", "--num-dialogues", "24",
         "--batch-size", "8", "--epochs", "4", "--quiet"]


def child(args, fault_at=0, wait=True):
    env = {**os.environ, "FAULT_AT": str(fault_at), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", CHILD, *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    if wait:
        process.communicate(timeout=240)
    return process


def weights(path):
    return load_checkpoint(str(path))["model_state"]


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    assert child([*TRAIN, "--out", str(out)]).returncode == 0
    return out


@pytest.mark.parametrize("fault_at", [2, 4, 7])    # rename 1: config.yaml; then per epoch best.pt, last.pt
def test_training_killed_at_a_checkpoint_write_resumes_to_the_same_weights(tmp_path, uninterrupted, fault_at):
    out = tmp_path / "run"
    assert child([*TRAIN, "--out", str(out)], fault_at=fault_at).returncode == -signal.SIGKILL
    for name in ("best.pt", "last.pt"):          # whatever is there is a complete checkpoint
        if (out / name).exists():
            load_checkpoint(str(out / name))
    if not (out / "last.pt").exists():           # killed before the first epoch ended: start again
        done = child([*TRAIN, "--out", str(out), "--overwrite"])
    else:
        done = child(["train", "--resume", str(out / "last.pt")])
    assert done.returncode == 0, done.stderr
    assert same(weights(out / "last.pt"), weights(uninterrupted / "last.pt"))
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (out, uninterrupted))
    assert a["test"] == b["test"] and a["best_epoch"] == b["best_epoch"]
    assert [json.loads(line)["epoch"] for line in open(out / "log.jsonl")] == [1, 2, 3, 4]
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]     # leftovers cleared


def test_training_killed_at_a_random_moment_resumes_to_the_same_weights(tmp_path, uninterrupted):
    out = tmp_path / "run"
    process = child([*TRAIN, "--out", str(out)], wait=False)
    deadline = time.time() + 120
    while not (out / "last.pt").exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(float(np.random.default_rng(int(time.time())).uniform(0, 0.5)))
    process.kill()
    process.communicate()
    done = child(["train", "--resume", str(out / "last.pt")])
    assert done.returncode == 0, done.stderr
    assert same(weights(out / "last.pt"), weights(uninterrupted / "last.pt"))


@pytest.mark.parametrize("fault_at", [1, 2])     # before the .json, before the .pt of the cache
def test_a_cache_killed_half_way_is_never_read(tmp_path, fault_at):
    root = write_folder(tmp_path / "data", dialogues=30, length=4, width=8)
    inspect = ["inspect", "--dataset", "folder", "--root", str(root), "--num", "1"]
    assert child(inspect, fault_at=fault_at).returncode == -signal.SIGKILL
    done = child(inspect)
    assert done.returncode == 0, done.stderr
    from dialoggraph.datasets import DialogueFolder
    cached = DialogueFolder(str(root), "train")
    fresh = DialogueFolder(str(root), "train", cache_dir=str(tmp_path / "fresh"))
    assert len(cached) == len(fresh) and all(torch.equal(a["utterance"].x_text, b["utterance"].x_text)
                                             for a, b in zip(cached, fresh))
