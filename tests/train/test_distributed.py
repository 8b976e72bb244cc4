import json
import os
import subprocess
import sys


def test_torchrun_two_cpu_processes(tmp_path):
    """DDP with gloo: 2 processes train on a small synthetic set; metrics cover the whole dev/test split."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "dialoggraph", "train", "--model", "mlp", "--num-dialogues", "24", "--epochs", "2",
           "--batch-size", "4", "--quiet", "--out", str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    from dialoggraph.datasets import SyntheticDialogues
    dev_size = int(SyntheticDialogues(6, "dev")._data["utterance"].num_nodes)
    assert metrics["val"]["num_utterances"] == dev_size      # gathered from both ranks, no duplicates
    assert done.stdout.count("test wF1") == 1                 # only rank 0 reports


def test_two_processes_match_one_at_the_same_global_batch(tmp_path):
    """--batch-size is the global batch: 2 processes of 4 dialogues take the steps one process of 8
    takes, and land within noise of it (the data order differs, so not bit for bit)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = ["train", "--model", "bigru", "--num-dialogues", "160", "--epochs", "6", "--patience", "6",
              "--batch-size", "8", "--quiet"]
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "dialoggraph", *common, "--out", str(tmp_path / "ddp")],
                         env=env, capture_output=True, text=True, timeout=280)
    assert ddp.returncode == 0, ddp.stderr[-2000:]
    single = subprocess.run([sys.executable, "-m", "dialoggraph", *common, "--out", str(tmp_path / "one")],
                            env=env, capture_output=True, text=True, timeout=280)
    assert single.returncode == 0, single.stderr[-2000:]
    a, b = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("ddp", "one"))
    assert abs(a["test"]["weighted_f1"] - b["test"]["weighted_f1"]) < 0.06, (a["test"], b["test"])
    logs = [[json.loads(line) for line in open(tmp_path / d / "log.jsonl")] for d in ("ddp", "one")]
    # the same optimizer steps per epoch: 160 dialogues / global batch 8 (each process: 80 / 4)
    assert [e["steps"] for e in logs[0]] == [e["steps"] for e in logs[1]] == [20] * 6
    assert abs(logs[0][-1]["train_loss"] - logs[1][-1]["train_loss"]) < 0.15
