import math

import pytest
import torch

from dialoggraph.nn.fusion import (AdaptiveModalityDropout, ExpectationScale, dropout_probabilities,
                                   modality_performance)


def test_modality_performance_follows_eq_19():
    y = torch.tensor([0, 0, 0, 1, 1, 2, -1])
    pred = torch.tensor([0, 0, 1, 1, 2, 2, 0])
    # class 0: P = 2/2, R = 2/3; class 1: P = 1/2, R = 1/2; class 2: P = 1/2, R = 1; w_c = N / n_c, N = 6
    w = [6 / 3, 6 / 2, 6 / 1]
    pr = [1 * 2 / 3, 0.5 * 0.5, 0.5 * 1]
    expected = sum(a * b for a, b in zip(w, pr)) / sum(w)
    assert modality_performance(pred, y, 4, metric="eq19").item() == pytest.approx(expected)
    assert modality_performance(y.clamp(min=0), y, 4, metric="eq19").item() == pytest.approx(1.0)
    # the default is the support-weighted F1 (sklearn's, tests/fidelity): F1 = 2TP / (n_c + predicted_c)
    f1 = [2 * 2 / (3 + 2), 2 * 1 / (2 + 2), 2 * 1 / (1 + 2)]
    assert modality_performance(pred, y, 4).item() == pytest.approx((3 * f1[0] + 2 * f1[1] + f1[2]) / 6)


@pytest.mark.parametrize("rule", ["eq24", "released"])
def test_dropout_probabilities_eqs_20_to_24(rule):
    equal = dropout_probabilities(torch.tensor([0.5, 0.5, 0.5]), rule=rule)
    # all equal: eq. 24 gives q_base; the released rule drops nothing (r_bar = 0, not > 0)
    assert torch.allclose(equal, torch.full((3,), 0.3 if rule == "eq24" else 0.0), atol=1e-4)
    p = torch.tensor([0.6, 0.3, 0.2])
    q = dropout_probabilities(p, q_base=0.3, scale=0.9, rule=rule)
    # by hand for the best modality: r = [0.6/0.3 - 1, 0.6/0.2 - 1] = [1, 2]
    r = torch.tensor([0.6 / (0.3 + 1e-5) - 1, 0.6 / (0.2 + 1e-5) - 1])
    r_bar = (torch.softmax(torch.relu(r), 0) * r).sum() / 2
    assert q[0].item() == pytest.approx(min(1.0, 0.3 * (1 + 0.9 * r_bar.item())), rel=1e-5)
    assert q[0] > q[1] >= q[2]                         # the best modality is dropped most
    assert bool(((q >= 0) & (q <= 1)).all())
    assert (q[2] == 0) == (rule == "released")         # the weakest is never dropped under the released rule


def test_expectation_scale_gradient_eq_27():
    x = torch.ones(3, requires_grad=True)
    theta = torch.tensor(0.4, requires_grad=True)
    out = ExpectationScale.apply(x, theta)
    out.sum().backward()
    assert torch.allclose(out, torch.full((3,), 1 / 0.6))
    assert torch.allclose(x.grad, torch.full((3,), 1 / 0.6))
    assert theta.grad is None


def _inputs(num_dialogues=400, length=3):
    batch = torch.arange(num_dialogues).repeat_interleave(length)
    n = batch.numel()
    features = {m: torch.ones(n, 4) for m in ("text", "audio", "visual")}
    y = torch.randint(0, 3, (n,))
    predictions = {"text": y.clone(), "audio": torch.randint(0, 3, (n,)), "visual": torch.randint(0, 3, (n,))}
    return features, predictions, y, batch


def test_inactive_cases_change_nothing():
    features, predictions, y, batch = _inputs(4)
    layer = AdaptiveModalityDropout(p_exe=1.0)
    layer.eval()
    out, q = layer(features, predictions, y, batch, 3)
    assert out is features and q is None
    layer.train()
    layer.active = False
    assert layer(features, predictions, y, batch, 3)[1] is None
    layer.active = True
    single = {"text": features["text"]}
    assert layer(single, predictions, y, batch, 3)[1] is None


@pytest.mark.parametrize("rule", ["eq24", "released"])
def test_masks_whole_dialogues_rescales_and_never_drops_everything(rule):
    torch.manual_seed(0)
    features, predictions, y, batch = _inputs()
    layer = AdaptiveModalityDropout(q_base=0.6, p_exe=1.0, rule=rule).train()
    out, q = layer(features, predictions, y, batch, 3)
    theta = q.mean().item()                            # equal feature sizes
    dropped = torch.stack([out[m][:, 0].view(-1, 3)[:, 0] == 0 for m in out])   # [M, dialogues]
    for i, m in enumerate(("text", "audio", "visual")):
        kept = out[m][:, 0].view(-1, 3)                # per dialogue
        assert bool((kept == kept[:, :1]).all())       # one decision per dialogue
        assert all(v == 0 or abs(v - 1 / (1 - theta)) < 1e-5 for v in kept[:, 0].tolist())
    assert q[0] > q[1] and q[0] > q[2]                 # text predicts perfectly here
    assert not bool(dropped.all(0).any())              # the collapse guard: a modality always survives
    weakest = int(q.argmin())
    # Bernoulli(1 - q_m) per dialogue, except the guard restores the weakest where all were drawn dropped
    others = [i for i in range(3) if i != weakest]
    for i in others:
        assert abs(dropped[i].float().mean().item() - q[i].item()) < 0.08
    expected_weakest = q[weakest].item() * (1 - q[others[0]].item() * q[others[1]].item())
    assert abs(dropped[weakest].float().mean().item() - expected_weakest) < 0.08


def test_p_exe_zero_never_drops():
    features, predictions, y, batch = _inputs(10)
    layer = AdaptiveModalityDropout(p_exe=0.0).train()
    assert layer(features, predictions, y, batch, 3)[1] is None
    assert math.isclose(AdaptiveModalityDropout().q_base, 0.3)


def test_a_single_labelled_utterance_has_its_own_score():
    y, pred = torch.tensor([2, -1]), torch.tensor([2, 0])
    assert modality_performance(pred, y, 3).item() == 1.0
    assert modality_performance(pred, y, 3, metric="eq19").item() == 1.0
    assert modality_performance(pred[1:], y[1:], 3).item() == 0.0          # no labelled utterance


@pytest.mark.parametrize("metric,rule", [("weighted_f1", "released"), ("eq19", "eq24"), ("eq19", "released")])
def test_forward_uses_its_metric_and_rule_and_acts_with_two_modalities(metric, rule):
    torch.manual_seed(1)
    features, predictions, y, batch = _inputs(50)
    predictions["audio"] = torch.where(torch.rand(y.shape) < 0.5, y, predictions["audio"])
    features = {m: features[m] for m in ("text", "audio")}
    layer = AdaptiveModalityDropout(q_base=0.3, p_exe=1.0, metric=metric, rule=rule).train()
    _, q = layer(features, predictions, y, batch, 3)
    performance = torch.stack([modality_performance(predictions[m], y, 3, metric) for m in ("text", "audio")])
    assert q is not None and torch.allclose(q, dropout_probabilities(performance, 0.3, 0.9, rule))


def test_unknown_metric_or_rule_is_refused():
    with pytest.raises(ValueError, match="rule"):
        AdaptiveModalityDropout(rule="paper")
    with pytest.raises(ValueError, match="metric"):
        AdaptiveModalityDropout(metric="accuracy")
