import json
import os
import socket
import subprocess
import sys
import uuid

import pytest
import torch

from dialoggraph.train.distributed import GlobalBatchSampler


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


@pytest.mark.parametrize("n, batch, world", [(45, 8, 2), (9, 8, 2), (10, 4, 3), (3, 8, 4)])
def test_the_ranks_shares_are_the_one_process_batches(n, batch, world):
    """Each step's shares, put together, are the batch a one-process DataLoader(shuffle=True) draws
    from the same generator; a rank left without a dialogue gets one with weight 0."""
    seed = 7
    one = torch.Generator().manual_seed(seed)
    expected = list(torch.utils.data.DataLoader(range(n), batch_size=batch, shuffle=True, generator=one))
    samplers = [GlobalBatchSampler(n, batch, rank, world, torch.Generator()) for rank in range(world)]
    shares = []
    for sampler in samplers:
        sampler.generator.manual_seed(seed)
        loader = torch.utils.data.DataLoader(range(n), batch_sampler=sampler, generator=sampler.generator)
        shares.append([b.tolist() for b in loader])
    assert len(samplers[0]) == len(expected) == len(shares[0])
    for step, batch_ in enumerate(expected):
        kept = [x for rank in range(world) if samplers[rank].weights[step] for x in shares[rank][step]]
        assert kept == batch_.tolist() and samplers[0].sizes[step] == len(batch_)
        padded = [rank for rank in range(world) if not samplers[rank].weights[step]]
        assert all(len(shares[rank][step]) == 1 for rank in padded)
        assert len(padded) == max(0, world - len(batch_))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def two_nodes(args, timeout=280):
    """``torchrun --nnodes 2 --nproc-per-node 1`` twice on this machine: two "nodes" meeting at a c10d
    rendezvous on 127.0.0.1 (gloo on the loopback interface)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    rendezvous = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
                  "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-id", uuid.uuid4().hex]
    nodes = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", *rendezvous, "-m", "dialoggraph",
                               *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [node.communicate(timeout=timeout) for node in nodes]
    for node, (_, err) in zip(nodes, outs):
        assert node.returncode == 0, err[-3000:]
    return outs


def test_two_nodes_train_what_one_process_trains_and_resume(tmp_path):
    """--batch-size is the global batch: two nodes of one process each take the steps of one
    process (the same dialogues per step, the cross-entropy the global batch's mean), so they
    land on its weights up to float rounding; the run folder is written once; a two-node run
    stopped after 2 epochs and resumed to 4 is the one-process run of 4."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = ["train", "--model", "bigru", "--num-dialogues", "45", "--batch-size", "8", "--dropout", "0",
              "--patience", "10", "--quiet"]
    one = subprocess.run([sys.executable, "-m", "dialoggraph", *common, "--epochs", "4", "--out", str(tmp_path / "one")],
                         env=env, capture_output=True, text=True, timeout=280)
    assert one.returncode == 0, one.stderr[-2000:]
    two = tmp_path / "two"
    outs = two_nodes([*common, "--epochs", "2", "--out", str(two)])
    assert sum(out.count("test wF1") for out, _ in outs) == 1               # one node reports
    assert len((two / "log.jsonl").read_text().splitlines()) == 2            # one line per epoch: written once
    two_nodes(["train", "--resume", str(two / "last.pt"), "--epochs", "4", "--quiet"])
    logs = [[json.loads(line) for line in open(d / "log.jsonl")] for d in (tmp_path / "one", two)]
    assert [e["steps"] for e in logs[0]] == [e["steps"] for e in logs[1]] == [6] * 4     # 45 train dialogues, global batches of 8 (the last of 5)
    for a, b in zip(*logs):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-5 and abs(a["val_weighted_f1"] - b["val_weighted_f1"]) < 1e-9
    import torch
    mine, theirs = (torch.load(d / "last.pt", weights_only=True)["model_state"] for d in (two, tmp_path / "one"))
    for name, weight in theirs.items():      # Adam turns float rounding of near-zero gradients into ~1e-5
        assert torch.allclose(mine[name], weight, rtol=1e-3, atol=1e-4), (name, (mine[name] - weight).abs().max())
