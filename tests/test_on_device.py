"""Every model on the device under test (``pytest --device cuda`` or ``DIALOGGRAPH_TEST_DEVICE=cuda``;
cpu by default, where the rest of the suite already runs): a forward and backward pass whose
tensors all stay on the device, a training epoch in float32, bf16 and fp16 (with the gradient
scaler) through the trainer, evaluation, and on CUDA the compiled training step and a one-process
DDP run over nccl. ``scripts/gpu_check.sh`` runs it on a GPU."""
import pytest
import torch
from torch_geometric.data import Batch

from conftest import TINY_MODELS
from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.train import TrainConfig, Trainer, training_loss

IDS = [cls.__name__ for cls, _ in TINY_MODELS]


def data(model_cls, config, n=8, split="train"):
    return SyntheticDialogues(n, split, seed=3, max_len=8, pre_transform=model_cls.required_transform(config))


@pytest.mark.parametrize("model_cls, config", TINY_MODELS, ids=IDS)
def test_forward_and_backward_stay_on_the_device(device, model_cls, config):
    train = data(model_cls, config)
    model = model_cls(train.meta["feature_dims"], train.num_classes, config).to(device).train()
    batch = Batch.from_data_list(list(train)).to(device)
    output = model(batch)
    assert output.logits.device.type == torch.device(device).type and torch.isfinite(output.logits).all()
    loss = training_loss(output, batch["utterance"].y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(g.device.type == torch.device(device).type and torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize("precision", ["32", "bf16", "fp16"])
@pytest.mark.parametrize("model_cls, config", TINY_MODELS, ids=IDS)
def test_a_training_epoch_in_each_precision(device, model_cls, config, precision):
    if precision != "32" and device == "cpu":
        pytest.skip("on CPU: tests/train/test_precision.py (bf16; fp16 autocast is a GPU precision)")
    train, dev = data(model_cls, config), data(model_cls, config, 4, "dev")
    trainer = Trainer(model_cls, train, dev, TrainConfig(epochs=1, batch_size=4, quiet=True, curves=False,
                                                         device=device, precision=precision), model_config=config)
    result = trainer.fit()
    assert 0.0 <= result["val"]["weighted_f1"] <= 1.0
    assert all(p.dtype == torch.float32 and p.device.type == torch.device(device).type
               for p in trainer.model.parameters())


@pytest.mark.parametrize("model_cls, config", TINY_MODELS, ids=IDS)
def test_compiled_training_on_the_device(device, model_cls, config):
    if device == "cpu":
        pytest.skip("on CPU: tests/nn/test_compile.py")
    train, dev = data(model_cls, config), data(model_cls, config, 4, "dev")
    trainer = Trainer(model_cls, train, dev, TrainConfig(epochs=1, batch_size=4, quiet=True, curves=False,
                                                         device=device, compile=True), model_config=config)
    assert torch.isfinite(torch.tensor(trainer.fit()["val"]["weighted_f1"]))


def test_ddp_over_nccl_in_one_process(device, tmp_path):
    """The trainer wraps the model in DDP inside a process group the caller made (one GPU: one rank)."""
    if not device.startswith("cuda"):
        pytest.skip("nccl needs a GPU (DDP over gloo: tests/train/test_distributed.py)")
    import torch.distributed as dist
    dist.init_process_group("nccl", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        model_cls, config = TINY_MODELS[0]
        train, dev = data(model_cls, config), data(model_cls, config, 4, "dev")
        trainer = Trainer(model_cls, train, dev, TrainConfig(epochs=1, batch_size=4, quiet=True, curves=False,
                                                             device=device), model_config=config,
                          out_dir=str(tmp_path / "run"))
        assert isinstance(trainer.model, torch.nn.parallel.DistributedDataParallel)
        trainer.fit()
        assert (tmp_path / "run" / "best.pt").exists()
    finally:
        dist.destroy_process_group()


def test_device_auto_picks_the_gpu_when_there_is_one():
    from dialoggraph.train.evaluation import resolve_device
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
