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
