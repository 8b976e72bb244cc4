"""MFCRE's DialogueCRN against a float64 port of the authors' released ``DialogueCRN`` /
``ReasonModule`` / ``simam_module`` (github rhoqwomda/MFCRE, ``Model/DialogueCRN.py``), one
dialogue and one utterance at a time, with the readings the module states: the ViL cell runs over
the turns' queries (test_vil.py's reference), SimAM's statistics over each query's channels, the
speaker-level input is the features, and the output layer maps to ``out_channels`` without a
log-softmax."""
import pytest
import torch

from references import assert_same_forward_and_gradients, linear, randomise, sigmoid
from test_vil import vil_reference
from dialoggraph.nn.seq import DialogueCRN, ReasonModule, memory_retrieval, simam

BATCH = torch.tensor([0, 0, 0, 0, 1, 1, 2])


def released_simam(x, e_lambda=1e-4):
    """simam_module.forward on [b, c, l] (here b = 1 query, c = 1, l = its channels)."""
    x = x.view(1, 1, -1)
    n = x.size(2) - 1
    x_minus_mu_square = (x - x.mean(dim=2, keepdim=True)).pow(2)
    y = x_minus_mu_square / (4 * (x_minus_mu_square.sum(dim=2, keepdim=True) / n + e_lambda)) + 0.5
    return (x * sigmoid(y)).flatten()


def reference_retrieval(query, memory):
    """ReasonModule's retrieval for one query: r = sum_j softmax_j(x_j . q) x_j over the dialogue."""
    scores = torch.stack([memory[j] @ query for j in range(memory.size(0))])
    weights = torch.exp(scores - scores.max())
    return sum(weights[j] * memory[j] for j in range(memory.size(0))) / weights.sum()


def reason_module_reference(module, q_star, memory):
    """ReasonModule.forward for one utterance's q* against its dialogue's memory."""
    history = []
    for _ in range(module.turns):
        history.append(q_star)
        q = linear(vil_reference(module.cell, torch.stack(history))[-1], module.cell_out)
        if module.use_simam:
            q = released_simam(q)
        q_star = torch.cat([q, reference_retrieval(q, memory)])
    return q_star


def dialogue_crn_reference(module, x):
    """DialogueCRN.forward on one dialogue: for every position t, q* = fc(u_t), the speaker-level
    and the situation-level reasoning, cat([speaker, situation]), ReLU, smax_fc."""
    rows = []
    for t in range(x.size(0)):
        q_star = linear(x[t], module.query)                      # the shared self.fc
        hidden = torch.cat([reason_module_reference(module.speaker, q_star, x),
                            reason_module_reference(module.situation, q_star, x)])
        rows.append(linear(torch.relu(hidden), module.out))
    return torch.stack(rows)


def test_simam_is_the_released_module_on_each_query():
    torch.manual_seed(0)
    x = torch.randn(5, 9, dtype=torch.float64)
    assert torch.allclose(simam(x), torch.stack([released_simam(row) for row in x]), rtol=0, atol=1e-14)


@pytest.mark.parametrize("turns,use_simam", [(1, True), (2, True), (3, False)])
def test_dialogue_crn_is_the_released_module(turns, use_simam):
    module = randomise(DialogueCRN(4, 6, turns=turns, use_simam=use_simam), std=0.4, seed=turns).double().eval()
    x = torch.randn(7, 4, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out = module(x, BATCH)
    ref = torch.cat([dialogue_crn_reference(module, x_ref[BATCH == d]) for d in range(3)])
    assert_same_forward_and_gradients(module, [x], [x_ref], out, ref)


def test_zero_turns_return_the_query():
    module = DialogueCRN(4, 6, turns=0).double().eval()
    x = torch.randn(7, 4, dtype=torch.float64)
    q = module.query(x)
    expected = module.out(torch.relu(torch.cat([q, q], -1)))
    assert torch.allclose(module(x, BATCH), expected)


@pytest.mark.parametrize("cell", ["s", "m"])
def test_xlstm_cells_carry_their_state_across_turns(cell):
    torch.manual_seed(1)
    module = ReasonModule(4, turns=3, cell=cell).double().eval()
    q_star = torch.randn(7, 8, dtype=torch.float64)
    out = module(q_star, torch.randn(7, 4, dtype=torch.float64), BATCH)
    assert out.shape == (7, 8) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match="cell"):
        ReasonModule(4, cell="x")
    with pytest.raises(ValueError, match="turns"):
        ReasonModule(4, turns=-1)


def test_isolation_single_utterance_and_gradients():
    torch.manual_seed(2)
    module = DialogueCRN(4, 6, turns=2).eval()
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


def test_memory_retrieval_is_dialogue_crns_and_stays_in_its_dialogue():
    torch.manual_seed(3)
    q, m = torch.randn(7, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    r = memory_retrieval(q, m, BATCH)
    for i in range(7):
        inside = BATCH == BATCH[i]
        assert torch.allclose(r[i], reference_retrieval(q[i], m[inside]), atol=1e-12)
