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


def test_layer_references_hold_on_the_device(device):
    """The blocks' references of tests/nn, with the block, its inputs and the reference on the device
    (float64; the DiffRGAT layer in float32): the device's kernels compute the same equations."""
    import sys
    from pathlib import Path
    here = Path(__file__).parent
    for folder in ("nn", "nn/seq", "nn/fusion", "nn/conv"):
        sys.path.insert(0, str(here / folder))
    from references import randomise
    from test_diff_rgat_conv import dense_reference, make_graph
    from test_dialogue_crn import dialogue_crn_reference
    from test_modality_encoder import released_encoder
    from test_sequence_family_references import multi_attn_reference
    from test_vil import vil_reference
    from dialoggraph.nn import DialogueCRN, DiffRGATConv, ModalityEncoder, MultiAttn, ViLBlock

    batch = torch.tensor([0, 0, 0, 0, 1, 1, 2], device=device)
    parts = [batch == d for d in range(3)]
    torch.manual_seed(0)
    block = randomise(ViLBlock(8), std=0.4).double().to(device)
    x = torch.randn(3, 5, 8, dtype=torch.float64, device=device)
    assert torch.allclose(block(x), torch.stack([vil_reference(block, x[b]) for b in range(3)]), atol=1e-9)
    crn = randomise(DialogueCRN(4, 6), std=0.4).double().to(device).eval()
    u = torch.randn(7, 4, dtype=torch.float64, device=device)
    assert torch.allclose(crn(u, batch), torch.cat([dialogue_crn_reference(crn, u[p]) for p in parts]), atol=1e-9)
    encoder = randomise(ModalityEncoder(5, 8, heads=2), std=0.4).double().to(device).eval()
    v = torch.randn(7, 5, dtype=torch.float64, device=device)
    assert torch.allclose(encoder(v, batch), torch.cat([released_encoder(encoder, v[p]) for p in parts]), atol=1e-9)
    fusion = randomise(MultiAttn(4, ("text", "audio", "visual"), num_layers=2, heads=2, dropout=0.0),
                       seed=4).double().to(device).eval()
    f = {m: torch.randn(7, 4, dtype=torch.float64, device=device) for m in ("text", "audio", "visual")}
    out = fusion(f, batch)
    refs = [multi_attn_reference(fusion, {m: t[p] for m, t in f.items()}) for p in parts]
    assert all(torch.allclose(out[m], torch.cat([r[m] for r in refs]), atol=1e-9) for m in f)
    conv = DiffRGATConv(16, 8, heads=2, depth=2).to(device)
    g, edge_index, edge_rel, graph_batch = (t.to(device) for t in make_graph(2))
    assert torch.allclose(conv(g, edge_index, edge_rel), dense_reference(conv, g, edge_index, edge_rel, graph_batch),
                          atol=1e-5)
