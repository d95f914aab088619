"""Densities integrate to 1 over the simplex and agree with TFP where TFP has the family."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from igr.distributions import GumbelSoftmax
from tests.distributions._families import F64, FAMILIES, make

tfd = tfp.distributions


def integrate_k2(distribution, half_width=120.0, num=240_001):
    """int p(psi_1, 1 - psi_1) d psi_1 with psi_1 = sigmoid(s) (Jacobian psi_1 psi_2)."""
    s = np.linspace(-half_width, half_width, num)
    psi1 = 1.0 / (1.0 + np.exp(-s))
    psi = tf.constant(np.stack([psi1, 1.0 - psi1], -1), F64)
    # log psi_2 from s directly, so psi_2 does not round to 0 far out on the right.
    log_jacobian = -np.logaddexp(0, -s) - np.logaddexp(0, s)
    density = np.exp(distribution.log_prob(psi).numpy() + log_jacobian)
    return np.trapezoid(np.nan_to_num(density, nan=0.0), s)


def integrate_k3(distribution, half_width=30.0, num=1_201):
    """Over the triangle with psi = (u, (1-u) w, (1-u)(1-w)), u = sigmoid(a), w = sigmoid(c)."""
    grid = np.linspace(-half_width, half_width, num)
    a, c = np.meshgrid(grid, grid, indexing="ij")
    u, w = 1.0 / (1.0 + np.exp(-a)), 1.0 / (1.0 + np.exp(-c))
    psi = np.stack([u, (1 - u) * w, (1 - u) * (1 - w)], -1).reshape(-1, 3)
    log_jacobian = np.log(u) + 2 * np.log1p(-u) + np.log(w) + np.log1p(-w)
    log_prob = distribution.log_prob(tf.constant(psi, F64)).numpy().reshape(a.shape)
    density = np.nan_to_num(np.exp(log_prob + np.nan_to_num(log_jacobian, neginf=-np.inf)))
    return np.trapezoid(np.trapezoid(density, grid, axis=1), grid)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_density_integrates_to_one_k2(family, temperature):
    assert integrate_k2(make(family, 2, temperature)) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize("family", FAMILIES)
def test_density_integrates_to_one_k3(family):
    temperature = 1.0 if family == "gs" else 0.6
    assert integrate_k3(make(family, 3, temperature)) == pytest.approx(1.0, abs=3e-3)


def test_igr_sb_density_is_zero_outside_its_support():
    distribution = make("igr_sb", 2, 0.5)
    # The support of binary IGR-SB is psi_1 in (sigmoid(-1/tau), sigmoid(1/tau)).
    edge = 1.0 / (1.0 + np.exp(2.0))
    inside = tf.constant([[edge + 1e-3, 1 - edge - 1e-3], [0.5, 0.5]], F64)
    outside = tf.constant([[edge - 1e-3, 1 - edge + 1e-3], [0.999, 0.001]], F64)
    assert np.all(np.isfinite(distribution.log_prob(inside).numpy()))
    assert np.all(distribution.log_prob(outside).numpy() == -np.inf)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 2.0])
def test_gumbel_softmax_log_prob_equals_tfp_concrete(temperature):
    logits = tf.constant([[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]], F64)
    ours = GumbelSoftmax(logits, tf.constant(temperature, F64))
    concrete = tfd.RelaxedOneHotCategorical(tf.constant(temperature, F64), logits=logits)
    exp_concrete = tfd.ExpRelaxedOneHotCategorical(tf.constant(temperature, F64), logits=logits)
    psi = concrete.sample(50, seed=(4, 2))
    np.testing.assert_allclose(ours.log_prob(psi), concrete.log_prob(psi), rtol=1e-10)
    log_psi = tf.math.log(psi)
    np.testing.assert_allclose(
        ours.log_prob_log(log_psi), exp_concrete.log_prob(log_psi), rtol=1e-10
    )


def test_sample_and_log_prob_match_log_prob_of_the_sample():
    for family in FAMILIES:
        distribution = make(family, 5, 0.7)
        psi, log_prob = distribution.experimental_sample_and_log_prob(20, seed=(7, 7))
        again = distribution.log_prob(tf.identity(psi))
        np.testing.assert_allclose(log_prob, again, rtol=1e-6, err_msg=family)


@pytest.mark.parametrize("family", FAMILIES)
def test_log_prob_of_own_samples_is_finite_at_low_temperature(family):
    distribution = make(family, 10, 0.01)
    psi, log_prob = distribution.experimental_sample_and_log_prob(100, seed=(1, 9))
    assert np.all(np.isfinite(log_prob.numpy())), family
    np.testing.assert_allclose(tf.reduce_sum(psi, -1), 1.0, atol=1e-9)
