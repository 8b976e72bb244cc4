"""torch.compile: the graph layers on the common path trace without a graph break, and every
model compiles and gives the eager results (forward and gradients).

Dynamo's ``eager`` / ``aot_eager`` backends are used so the test checks tracing, not the
(minutes-long on CPU) code generation; inductor runs the same graphs.
"""
import pytest
import torch
from torch_geometric.data import Batch

from dialoggraph.datasets import SyntheticDialogues
from dialoggraph.graphs import dag_edges, speaker_window_edges
from conftest import TINY_MODELS
from dialoggraph.models import DAGERC, DAGERCConfig
from dialoggraph.nn import DAGConv, DAGSchedule, DiffRGATBlock, DiffRGATConv
from dialoggraph.train.trainer import TrainConfig, Trainer, training_loss


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def graph():
    torch.manual_seed(0)
    speaker = torch.randint(0, 3, (24,))
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor([10, 8, 6]))
    return torch.randn(24, 16, requires_grad=True), speaker, batch


def same_forward_and_gradients(module, *args, **kwargs):
    compiled = torch.compile(module, fullgraph=True, backend="eager")
    x = args[0]
    x.grad = None
    out = compiled(*args, **kwargs)
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    grads = [x.grad.clone()] + [p.grad.clone() for p in module.parameters()]
    x.grad = None
    module.zero_grad()
    eager = module(*args, **kwargs)
    (eager * torch.linspace(-1, 1, eager.numel()).view_as(eager)).sum().backward()
    torch.testing.assert_close(out, eager)
    for got, want in zip(grads, [x.grad] + [p.grad for p in module.parameters()]):
        torch.testing.assert_close(got, want)


def test_diff_rgat_layers_compile_without_a_graph_break():
    x, speaker, batch = graph()
    edge_index, relation = speaker_window_edges(speaker, batch, 2, 2)
    same_forward_and_gradients(DiffRGATConv(16, 16, heads=2), x, edge_index, relation)
    same_forward_and_gradients(DiffRGATBlock(16, heads=2, dropout=0.0), x, edge_index, relation)


def test_dag_conv_compiles_without_a_graph_break_given_its_schedule():
    x, speaker, batch = graph()
    edge_index, same = dag_edges(speaker, batch, 1)
    schedule = DAGSchedule.build(edge_index, same, batch, x.size(0))
    same_forward_and_gradients(DAGConv(16), x, edge_index, same, batch, schedule=schedule)


@pytest.mark.parametrize("model_cls, config", TINY_MODELS, ids=[cls.__name__ for cls, _ in TINY_MODELS])
def test_models_compile_and_match_eager(model_cls, config):
    data = SyntheticDialogues(4, "train", max_len=8, pre_transform=model_cls.required_transform(config))
    batch = Batch.from_data_list(list(data))
    torch.manual_seed(0)
    # eval mode: no dropout draws, so compiled and eager runs see the same computation
    model = model_cls({m: data.meta["feature_dims"][m] for m in config.modalities}, 7, config).eval()
    compiled = torch.compile(model, backend="aot_eager")
    loss = training_loss(compiled(batch), batch["utterance"].y)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad()
    eager = training_loss(model(batch), batch["utterance"].y)
    eager.backward()
    torch.testing.assert_close(loss, eager)
    for got, want in zip(grads, [p.grad for p in model.parameters() if p.grad is not None]):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_training_under_compile_compiles_on_the_first_step_only(monkeypatch):
    """``--compile``: the first step compiles; later batches of other structures (DAG-ERC's walk
    unrolls per structure) reuse the compiled code or run eagerly, never compile again."""
    graphs = []

    def counting_backend(gm, example_inputs):
        graphs.append(gm)
        return gm.forward

    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda model, **kw: compile_(model, backend=counting_backend, **kw))
    config = DAGERCConfig(hidden=16, num_layers=2, modalities=("text",))
    train, dev = (SyntheticDialogues(n, split, seed=2, max_len=9, pre_transform=DAGERC.required_transform(config))
                  for n, split in ((24, "train"), (8, "dev")))
    trainer = Trainer("dag_erc", train, dev, TrainConfig(epochs=2, batch_size=4, quiet=True, curves=False,
                                                         compile=True), model_config=config)
    runner, after_step, structures = trainer.runner, [], set()

    def counted(batch):
        out = runner(batch)
        after_step.append(len(graphs))
        structures.add(tuple(torch.bincount(batch["utterance"].batch).sort().values.tolist()))
        return out

    trainer.runner = counted
    result = trainer.fit()
    assert len(structures) > 1 and len(after_step) == 12               # batches of different walks
    assert after_step[0] > 0 and after_step == [after_step[0]] * 12    # compiled once, on the first step
    assert 0 <= result["val"]["weighted_f1"] <= 1
