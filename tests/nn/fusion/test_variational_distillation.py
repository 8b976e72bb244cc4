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
