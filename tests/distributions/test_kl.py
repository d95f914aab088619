"""Closed-form KLs against Monte-Carlo estimates computed on the simplex."""

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions import (
    IGRI,
    IGRSB,
    GumbelSoftmax,
    TruncatedIGRSB,
    has_closed_form_kl,
    monte_carlo_kl,
    training_kl,
)
from tests.distributions._families import F64, make

NUM_SAMPLES = 20_000


def simplex_kl_estimate(q, p, seed):
    """Mean and standard error of log q(psi) - log p(psi) over draws of q, on the simplex."""
    psi = tf.identity(q.sample(NUM_SAMPLES, seed=seed))  # identity: no cached inverse
    log_ratio = (q.log_prob(psi) - p.log_prob(psi)).numpy()
    return log_ratio.mean(0), log_ratio.std(0) / np.sqrt(NUM_SAMPLES)


def two_variables(num_categories, seed):
    rng = np.random.default_rng(seed)
    loc = tf.constant(rng.normal(0, 1, (2, num_categories - 1)), F64)
    scale = tf.constant(rng.uniform(0.5, 1.5, (2, num_categories - 1)), F64)
    return loc, scale


@pytest.mark.parametrize("family", [IGRI, IGRSB])
def test_closed_form_kl_agrees_with_monte_carlo_on_the_simplex(family):
    loc_q, scale_q = two_variables(5, 0)
    loc_p, scale_p = two_variables(5, 1)
    tau = tf.constant(0.5, F64)
    q, p = family(loc_q, scale_q, tau), family(loc_p, scale_p, tau)
    assert has_closed_form_kl(q, p)
    closed = training_kl(q, p).numpy()
    assert closed.shape == (2,)  # one KL per discrete variable
    estimate, standard_error = simplex_kl_estimate(q, p, seed=(3, 1))
    assert np.all(np.abs(closed - estimate) < 4 * standard_error), (closed, estimate)
    # And the closed form is the Gaussian KL summed over the K-1 coordinates.
    by_hand = np.sum(
        np.log(scale_p / scale_q) + (scale_q**2 + (loc_q - loc_p) ** 2) / (2 * scale_p**2) - 0.5,
        axis=-1,
    )
    np.testing.assert_allclose(closed, by_hand, rtol=1e-12)


def test_closed_form_kl_refuses_different_temperatures():
    loc, scale = two_variables(4, 0)
    with pytest.raises(ValueError, match="temperature"):
        training_kl(IGRI(loc, scale, 0.5), IGRI(loc, scale, 0.3))


def test_truncated_kl_sums_only_the_sticks_in_use():
    loc_q, scale_q = two_variables(8, 2)
    q = TruncatedIGRSB(loc_q, scale_q, tf.constant(0.1, F64))
    p = TruncatedIGRSB(tf.zeros_like(loc_q), tf.ones_like(scale_q), tf.constant(0.1, F64))
    per_stick = (-np.log(scale_q) + (scale_q**2 + loc_q**2) / 2 - 0.5).numpy()
    np.testing.assert_allclose(q.truncated_kl(p, 4), per_stick[:, :3].sum(-1), rtol=1e-12)
    np.testing.assert_allclose(training_kl(q, p), per_stick.sum(-1), rtol=1e-12)


def test_planar_kl_in_lambda_space_agrees_with_simplex_estimate():
    q = make("igr_planar", 4, 0.5, seed=3)
    prior = IGRI(tf.zeros([3], F64), tf.ones([3], F64), tf.constant(0.5, F64))
    assert not has_closed_form_kl(q, prior)
    fast = monte_carlo_kl(q, prior, seed=(5, 5), num_samples=NUM_SAMPLES).numpy()
    estimate, standard_error = simplex_kl_estimate(q, prior, seed=(6, 6))
    assert abs(fast - estimate) < 5 * standard_error + 1e-3


def test_gumbel_softmax_monte_carlo_kl_is_stable_and_unbiased():
    logits_q = tf.constant([[2.0, 0.0, -1.0, 0.5]], F64)
    q = GumbelSoftmax(logits_q, tf.constant(0.5, F64))
    p = GumbelSoftmax(tf.zeros_like(logits_q), tf.constant(0.5, F64))
    fast = monte_carlo_kl(q, p, seed=(2, 2), num_samples=NUM_SAMPLES).numpy()
    estimate, standard_error = simplex_kl_estimate(q, p, seed=(8, 8))
    assert abs(fast - estimate) < 5 * standard_error + 1e-3
    # At tau = 0.01 psi underflows to exact zeros; the log-space estimator stays finite.
    cold_q = GumbelSoftmax(logits_q, tf.constant(0.01, F64))
    cold_p = GumbelSoftmax(tf.zeros_like(logits_q), tf.constant(0.01, F64))
    assert np.all(np.isfinite(training_kl(cold_q, cold_p, seed=(1, 1), num_samples=100).numpy()))
