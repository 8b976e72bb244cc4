import math
import pytest
import torch

from dialoggraph.nn.fusion import VariationalDistillationFusion, gaussian_kl


def test_closed_form_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mu_q, logvar_q = torch.randn(3), torch.randn(3) * 0.5
    mu_p, logvar_p = torch.randn(3), torch.randn(3) * 0.5
    q = torch.distributions.Normal(mu_q, (0.5 * logvar_q).exp())
    p = torch.distributions.Normal(mu_p, (0.5 * logvar_p).exp())
    z = q.sample((400_000,))
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean()
    assert gaussian_kl(mu_q, logvar_q, mu_p, logvar_p).item() == pytest.approx(monte_carlo.item(), abs=0.02)
    assert gaussian_kl(mu_q, logvar_q, mu_q, logvar_q).item() == pytest.approx(0.0, abs=1e-6)


def test_fusion_weights_and_eval_uses_means():
    torch.manual_seed(1)
    vdf = VariationalDistillationFusion(6, ("text", "audio", "visual"))
    features = {m: torch.randn(5, 6) for m in ("text", "audio", "visual")}
    vdf.eval()
    fused, loss, weights = vdf(features)
    assert set(weights) == {"audio", "visual"}
    for w in weights.values():
        assert w.shape == (5,) and bool(((w >= 0.5) & (w <= 1)).all())       # sigmoid of a KL >= 0
    means = {m: vdf.mean[m](x) for m, x in features.items()}
    assert torch.allclose(fused, means["text"] + weights["audio"][:, None] * means["audio"]
                          + weights["visual"][:, None] * means["visual"], atol=1e-6)
    assert torch.equal(fused, vdf(features)[0])                                 # deterministic at evaluation
    assert loss.item() > 0
    vdf.train()
    assert not torch.equal(vdf(features)[0], fused)                             # sampled in training


def test_dominant_modality_is_configurable():
    vdf = VariationalDistillationFusion(4, ("text", "audio"), dominant="audio")
    _, _, weights = vdf({"text": torch.randn(2, 4), "audio": torch.randn(2, 4)})
    assert set(weights) == {"text"}
    with pytest.raises(ValueError, match="dominant"):
        VariationalDistillationFusion(4, ("audio",), dominant="text")


def test_unweighted_fusion_sums_the_latents_and_keeps_the_loss():
    torch.manual_seed(2)
    features = {m: torch.randn(5, 6) for m in ("text", "audio", "visual")}
    weighted = VariationalDistillationFusion(6, ("text", "audio", "visual")).eval()
    unweighted = VariationalDistillationFusion(6, ("text", "audio", "visual"), weighted=False).eval()
    unweighted.load_state_dict(weighted.state_dict())
    fused, loss, weights = unweighted(features)
    assert torch.allclose(fused, sum(unweighted.mean[m](x) for m, x in features.items()), atol=1e-6)
    _, loss_w, weights_w = weighted(features)
    assert torch.allclose(loss, loss_w) and all(torch.allclose(weights[m], weights_w[m]) for m in weights)


def test_fusion_weights_are_live_at_realistic_widths():
    """Eq. 16 with the KL summed over 256 latent dimensions saturates the sigmoid (every w = 1.0,
    no gradient): the issue's dead weights. Per latent dimension (the default) they move."""
    torch.manual_seed(2)
    features = {m: torch.randn(32, 256) for m in ("text", "audio", "visual")}
    for weight_kl, live in (("mean", True), ("sum", False)):
        vdf = VariationalDistillationFusion(256, ("text", "audio", "visual"), weight_kl=weight_kl).eval()
        _, _, weights = vdf(features)
        w = torch.stack(list(weights.values()))
        grad = torch.autograd.grad(w.sum(), vdf.logvar["audio"].weight)[0]
        w = w.detach()
        if live:
            assert float(w.max()) < 0.99 and float(w.std()) > 1e-3 and float(grad.abs().max()) > 1e-4
        else:
            assert float(w.min()) > 0.9999 and float(grad.abs().max()) < 1e-6
    with pytest.raises(ValueError, match="weight_kl"):
        VariationalDistillationFusion(4, ("text",), weight_kl="max")


def test_distillation_loss_and_weights_equal_eqs_13_to_16_utterance_by_utterance():
    """Eq. 13: mean_i [sum_{m != l} KL(q_m || sg(q_l)) + sum_m KL(q_m || N(0, I))], KLs summed over
    dimensions; eq. 16: w_m = sigmoid(mean_d (KL_d(l || m) + KL_d(m || l)) / 2); closed forms by hand."""
    torch.manual_seed(3)
    modalities = ("text", "audio", "visual")
    vdf = VariationalDistillationFusion(3, modalities).double().eval()
    x = {m: torch.randn(4, 3, dtype=torch.float64) for m in modalities}
    fused, loss, weights = vdf(x)

    def kl(mq, lq, mp, lp):   # one dimension: log(s_p / s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2
        return 0.5 * (lp - lq) + (math.exp(lq) + (mq - mp) ** 2) / (2 * math.exp(lp)) - 0.5

    stats = {m: (vdf.mean[m](v).tolist(), vdf.logvar[m](v).tolist()) for m, v in x.items()}
    expected_loss = 0.0
    for i in range(4):
        for m in modalities:
            mu, lv = stats[m][0][i], stats[m][1][i]
            expected_loss += sum(kl(mu[d], lv[d], 0.0, 0.0) for d in range(3)) / 4
            if m != "text":
                mu_l, lv_l = stats["text"][0][i], stats["text"][1][i]
                expected_loss += sum(kl(mu[d], lv[d], mu_l[d], lv_l[d]) for d in range(3)) / 4
                both = sum(kl(mu_l[d], lv_l[d], mu[d], lv[d]) + kl(mu[d], lv[d], mu_l[d], lv_l[d])
                           for d in range(3)) / 3
                assert abs(weights[m][i].item() - 1 / (1 + math.exp(-0.5 * both))) < 1e-12
    assert abs(loss.item() - expected_loss) < 1e-10
