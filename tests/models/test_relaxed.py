"""The one family builder (igr.models.relaxed) and the one sample-and-KL dispatch."""

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions import (
    IGRI,
    IGRSB,
    GumbelSoftmax,
    IGRPlanar,
    TruncatedIGRSB,
    sample_and_kl,
    training_kl,
)
from igr.experiments.priors import learn_prior
from igr.families import families_of_stage
from igr.models import relaxed

K, V, B = 4, 3, 5
EXPECTED_CLASS = {
    "gs": GumbelSoftmax,
    "igr_i": IGRI,
    "igr_planar": IGRPlanar,
    "igr_sb": IGRSB,
    "igr_sb_trunc": TruncatedIGRSB,
    "st_gs": GumbelSoftmax,  # the baselines' relaxation is GS's (their VAE forward is one-hot)
    "reinmax": GumbelSoftmax,
}
PRIOR_CLASS = {**EXPECTED_CLASS, "igr_planar": IGRI}  # IGR-Planar's prior is IGR-I (spec 1.4)


@pytest.fixture(scope="module")
def prior_records():
    sb = learn_prior("igr_sb", K, fit_temperature=0.05, num_steps=2, samples_per_step=20,
                     learning_rate=0.05, eval_samples=50, seed=1)
    return {"gs": learn_prior("gs", K), "igr_i": learn_prior("igr_i", K, scale=1.0),
            "igr_planar": learn_prior("igr_planar", K, scale=1.0), "igr_sb": sb,
            "igr_sb_trunc": sb, "st_gs": learn_prior("gs", K), "reinmax": learn_prior("gs", K)}


def _outputs(family, seed=0):
    size = relaxed.num_parameters(family, K)
    return tf.constant(np.random.default_rng(seed).normal(size=(B, V, size)), tf.float32)


@pytest.mark.parametrize("family", families_of_stage("vae"))
def test_posterior_and_prior_of_every_family(family, prior_records):
    flow = relaxed.PlanarFlowParameters([V], 2, K - 1, [7, 1]) if family == "igr_planar" else None
    q = relaxed.posterior(family, _outputs(family), 0.5, flow=flow)
    p = relaxed.prior(family, prior_records[family], V, 0.5)
    assert type(q) is EXPECTED_CLASS[family] and type(p) is PRIOR_CLASS[family]
    assert q.batch_shape == [B, V] and p.batch_shape == [V]
    assert q.event_shape == [K] and p.event_shape == [K]
    outputs = _outputs(family).numpy()
    if family in ("gs", "st_gs", "reinmax"):
        np.testing.assert_allclose(q.logits, outputs)
        np.testing.assert_allclose(p.logits, np.zeros((V, K)))
    else:
        loc, scale = q.parameters["loc"], q.parameters["scale"]
        np.testing.assert_allclose(loc, outputs[..., : K - 1])
        np.testing.assert_allclose(scale, np.log1p(np.exp(outputs[..., K - 1 :])), rtol=1e-6)
        expected = np.broadcast_to(prior_records[family]["loc"], (V, K - 1))
        np.testing.assert_allclose(p.parameters["loc"], expected)


def test_gs_pivot_pins_the_last_logit_at_zero():
    q = relaxed.posterior("gs", tf.constant([[[1.5]], [[-2.0]]]), 0.5, gs_pivot=True)
    np.testing.assert_allclose(q.logits, [[[1.5, 0.0]], [[-2.0, 0.0]]])
    assert relaxed.num_parameters("gs", 2, gs_pivot=True) == 1
    assert relaxed.num_parameters("igr_i", 2, gs_pivot=True) == 2


def test_truncation_settings_reach_posterior_and_prior(prior_records):
    truncation = relaxed.Truncation(threshold=0.95, quantile=0.5)
    q = relaxed.posterior("igr_sb_trunc", _outputs("igr_sb_trunc"), 0.5, truncation=truncation)
    p = relaxed.prior("igr_sb_trunc", prior_records["igr_sb_trunc"], V, 0.5, truncation=truncation)
    assert (q.threshold, q.quantile) == (p.threshold, p.quantile) == (0.95, 0.5)


def test_planar_flow_parameters_one_documented_initialisation():
    first = relaxed.PlanarFlowParameters([V], 2, K - 1, [3, 4])
    again = relaxed.PlanarFlowParameters([V], 2, K - 1, [3, 4])
    other = relaxed.PlanarFlowParameters([V], 2, K - 1, [3, 5])
    assert first.u.shape == first.w.shape == [V, 2, K - 1] and first.b.shape == [V, 2]
    np.testing.assert_array_equal(first.u, again.u)
    assert not np.allclose(first.u, other.u) and not np.allclose(first.u, first.w)
    assert np.all(first.b.numpy() == 0)
    big = relaxed.PlanarFlowParameters([200], 2, 50, [1, 1])
    assert np.std(big.u.numpy()) == pytest.approx(relaxed.PLANAR_INIT_SCALE, rel=0.05)
    q = relaxed.posterior("igr_planar", _outputs("igr_planar"), 0.5, flow=first)
    assert q.batch_shape == [B, V] and q.sample(seed=(1, 2)).shape == [B, V, K]


def test_planar_posterior_without_its_flow_is_refused():
    with pytest.raises(ValueError, match="igr_planar needs"):
        relaxed.posterior("igr_planar", _outputs("igr_planar"), 0.5)


@pytest.mark.parametrize("family", families_of_stage("vae"))
def test_sample_and_kl_draws_the_samples_of_q(family, prior_records):
    flow = relaxed.PlanarFlowParameters([V], 2, K - 1, [7, 1]) if family == "igr_planar" else None
    q = relaxed.posterior(family, _outputs(family), 0.5, flow=flow)
    p = relaxed.prior(family, prior_records[family], V, 0.5)
    psi, kl, truncation = sample_and_kl(q, p, seed=(4, 2))
    assert psi.shape == [B, V, K] and kl.shape == [B, V]
    assert np.all(np.isfinite(kl.numpy()))
    np.testing.assert_allclose(tf.reduce_sum(psi, -1), np.ones((B, V)), rtol=1e-5)
    assert (truncation is not None) == (family == "igr_sb_trunc")
    if family in ("igr_i", "igr_sb"):  # closed form
        np.testing.assert_allclose(kl, training_kl(q, p), rtol=1e-6)
    if family == "igr_sb_trunc":
        np.testing.assert_allclose(kl, q.truncated_kl(p, truncation.num_categories), rtol=1e-6)


@pytest.mark.parametrize("family", ["gs", "igr_planar"])
def test_one_draw_monte_carlo_kl_is_unbiased(family, prior_records):
    """Averaged over many seeds, the one-draw KL of sample_and_kl matches a large-sample KL."""
    flow = relaxed.PlanarFlowParameters([V], 2, K - 1, [7, 1]) if family == "igr_planar" else None
    one = _outputs(family)[:1]
    q = relaxed.posterior(family, tf.tile(one, [2000, 1, 1]), 0.7, flow=flow)  # 2000 copies
    p = relaxed.prior(family, prior_records[family], V, 0.7)
    draws = sample_and_kl(q, p, seed=(9, 1))[1].numpy()  # one draw per copy: [2000, V]
    single = relaxed.posterior(family, one, 0.7, flow=flow)
    reference = training_kl(single, p, seed=(1, 1), num_samples=20_000).numpy()[0]
    error = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - reference) < 5 * error + 0.02)
