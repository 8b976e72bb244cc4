import pytest
import torch

from dialoggraph.nn.seq import DialogueCRNReasoning, dialogue_statistics, memory_retrieval, simam_energy_gate

BATCH = torch.tensor([0, 0, 0, 0, 1, 1, 2])


def reference_gate(query, memory, lam):
    """SimAM's energy written out for one dialogue: E = 4(var + lam) / ((t - mu)^2 + 2 var + 2 lam)."""
    n = memory.size(0)
    mu = sum(memory[j] for j in range(n)) / n
    var = sum((memory[j] - mu) ** 2 for j in range(n)) / n
    energy = 4 * (var + lam) / ((query - mu) ** 2 + 2 * var + 2 * lam)
    return torch.sigmoid(1 / energy)


def reference_retrieval(query, memory):
    """DialogueCRN's ReasonModule retrieval for one query: r = sum_j softmax_j(m_j . q) m_j."""
    scores = torch.stack([memory[j] @ query for j in range(memory.size(0))])
    weights = torch.exp(scores - scores.max())
    return sum(weights[j] * memory[j] for j in range(memory.size(0))) / weights.sum()


def reference_reasoning(module: DialogueCRNReasoning, x):
    """Eqs. 1-3 for one dialogue, one utterance and one turn at a time."""
    c = module.input(x)
    c = module.context(c, None) if module.context is not None else c
    memory = module.memory(c)
    rows = []
    for i in range(x.size(0)):
        q = module.query(c[i:i + 1])
        state = module.cell.initial_state(1, x)
        for _ in range(module.turns):
            q_tilde, state = module.cell(q, state)
            if not module.attention:
                r = q_tilde
            elif module.retrieval == "attention":
                r = reference_retrieval(q_tilde[0], memory).unsqueeze(0)
            else:
                r = reference_gate(q_tilde[0], memory, module.lam) * q_tilde
            q = torch.cat([q_tilde, r], dim=-1)
        rows.append(q)
    return torch.cat(rows)


def test_simam_gate_equals_the_energy_formula_per_dialogue():
    torch.manual_seed(0)
    q, m = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    gate = simam_energy_gate(q, *dialogue_statistics(m, BATCH), lam=1e-3)
    for d in range(3):
        inside = BATCH == d
        expected = torch.stack([reference_gate(row, m[inside], 1e-3) for row in q[inside]])
        assert torch.allclose(gate[inside], expected, atol=1e-12)
    # a channel that stands out from its dialogue gets a larger weight; ordinary ones about sigmoid(1/2)
    context = dialogue_statistics(torch.tensor([[-1.0], [0.0], [1.0]]), None)
    assert torch.allclose(simam_energy_gate(torch.zeros(3, 1), *context), torch.sigmoid(torch.tensor(0.5)), atol=1e-6)
    assert simam_energy_gate(torch.full((3, 1), 5.0), *context)[0, 0] > 0.99


@pytest.mark.parametrize("cell,attention,context,retrieval",
                         [("s", True, "m", "attention"), ("m", True, "s", "attention"), ("s", True, "m", "simam"),
                          ("m", True, "s", "simam"), ("s", False, "", "attention"), ("m", False, "m", "simam")])
def test_batched_reasoning_equals_the_sequential_reference(cell, attention, context, retrieval):
    torch.manual_seed(1)
    module = DialogueCRNReasoning(6, 8, turns=3, cell=cell, context_blocks=context, heads=2,
                                  attention=attention, retrieval=retrieval).double().eval()
    x = torch.randn(7, 6, dtype=torch.float64)
    out = module(x, BATCH)
    assert out.shape == (7, 16)
    # the reference reads the context XLSTM through the module: pin what it must be
    assert (module.context is None) == (context == "")
    if context:
        assert [len(block.cells) for block in module.context.blocks] == [2] * len(context)   # bidirectional
        assert [type(block.cells[0]).__name__[0].lower() for block in module.context.blocks] == list(context)
    for d in range(3):
        inside = BATCH == d
        assert torch.allclose(out[inside], reference_reasoning(module, x[inside]), atol=1e-10)
    if not attention:           # w/o simAM attention: r = q~, so both halves are equal
        assert torch.allclose(out[:, :8], out[:, 8:])
    else:
        assert not torch.allclose(out[:, :8], out[:, 8:])


def test_isolation_single_utterance_and_gradients():
    torch.manual_seed(2)
    module = DialogueCRNReasoning(4, 6, turns=2, heads=2).eval()
    x = torch.randn(7, 4, requires_grad=True)
    out = module(x, BATCH)
    changed = x.detach().clone()
    changed[4] += 3.0
    out2 = module(changed, BATCH)
    inside = BATCH == 1
    assert torch.allclose(out[~inside], out2[~inside], atol=1e-6) and not torch.allclose(out[inside], out2[inside])
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and all(p.grad is not None for p in module.parameters())
    assert torch.isfinite(module(torch.randn(1, 4), None)).all()
    with pytest.raises(ValueError, match="cell"):
        DialogueCRNReasoning(4, 6, cell="x")
    with pytest.raises(ValueError, match="retrieval"):
        DialogueCRNReasoning(4, 6, retrieval="x")


def test_memory_retrieval_is_dialogue_crns_and_stays_in_its_dialogue():
    torch.manual_seed(3)
    q, m = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    r = memory_retrieval(q, m, BATCH)
    for i in range(7):
        inside = BATCH == BATCH[i]
        assert torch.allclose(r[i], reference_retrieval(q[i], m[inside]), atol=1e-12)
