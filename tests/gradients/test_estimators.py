"""Gradient estimators of one categorical variable: forward values, backward formulas, and
ReinMax's second-order accuracy against ST's first order (exact expectations, enumerated)."""

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions.estimators import (
    categorical_sample,
    reinforce,
    reinmax,
    reinmax_one_hot,
    straight_through_categorical,
    straight_through_gumbel_softmax,
    straight_through_one_hot,
)

K = 6
LOGITS = np.random.default_rng(0).normal(size=K)
TARGET = np.random.default_rng(1).uniform(size=K)
COEFFICIENTS = np.random.default_rng(2).normal(size=K)


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _jacobian(p):
    return np.diag(p) - np.outer(p, p)


def quadratic(points):
    return tf.reduce_sum(tf.square(points - tf.constant(TARGET)), axis=-1)


def exponential(scale):
    """``f_s(b) = exp(s c . b) / s``: smooth, not quadratic; its k-th derivative is O(s^(k-1))."""

    def f(points):
        return tf.exp(scale * tf.reduce_sum(points * tf.constant(COEFFICIENTS), -1)) / scale

    return f


def exact_gradient(f, logits=LOGITS):
    """``sum_k p_k f(e_k) (e_k - p)``."""
    p = _softmax(logits)
    values = f(tf.eye(K, dtype=tf.float64)).numpy()
    return p * (values - p @ values)


def expected_estimate(one_hot_estimator, f, temperature, logits=LOGITS):
    """``E_D[estimate] = sum_k p_k estimate(e_k)``: ST and ReinMax are deterministic given D."""
    tiled = tf.broadcast_to(tf.constant(logits), [K, K])
    with tf.GradientTape() as tape:
        tape.watch(tiled)
        total = tf.reduce_sum(f(one_hot_estimator(tiled, tf.eye(K, dtype=tf.float64), temperature)))
    per_category = tape.gradient(total, tiled).numpy()
    return _softmax(logits) @ per_category


def test_categorical_sample_is_one_hot_with_the_softmax_law():
    logits = tf.broadcast_to(tf.constant(LOGITS), [200_000, K])
    draws = categorical_sample(logits, (3, 4)).numpy()
    assert np.all(draws.sum(-1) == 1) and set(np.unique(draws)) == {0.0, 1.0}
    frequencies = draws.mean(0)
    p = _softmax(LOGITS)
    assert np.all(np.abs(frequencies - p) < 4 * np.sqrt(p * (1 - p) / 200_000))


@pytest.mark.parametrize("estimator", [reinmax, straight_through_categorical])
def test_forward_value_is_the_objective_at_an_exact_categorical_sample(estimator):
    estimate = estimator(quadratic, tf.constant(LOGITS), 0.5, (5, 6))
    sample = estimate.sample.numpy()
    assert sample.sum() == 1 and np.max(sample) == 1
    assert np.all(sample == categorical_sample(tf.constant(LOGITS), (5, 6)).numpy())
    assert estimate.surrogate.numpy() == pytest.approx(quadratic(tf.constant(sample)).numpy())


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.0])
def test_reinmax_backward_is_two_jacobians_at_pi1_minus_half_the_jacobian_at_pi0(temperature):
    """Algorithm 2 of Liu et al. (2023): (2 J(pi1) - J(pi0) / 2)^T grad f(D)."""
    logits = tf.constant(LOGITS)
    d = np.eye(K)[2]
    upstream = np.random.default_rng(3).normal(size=K)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        output = reinmax_one_hot(logits, tf.constant(d), temperature)
        total = tf.reduce_sum(output * upstream)
    np.testing.assert_array_equal(output.numpy(), d)
    pi0, pi1 = _softmax(LOGITS), 0.5 * (d + _softmax(LOGITS / temperature))
    expected = (2 * _jacobian(pi1) - 0.5 * _jacobian(pi0)).T @ upstream
    np.testing.assert_allclose(tape.gradient(total, logits).numpy(), expected, atol=1e-12)


def test_straight_through_backward_is_the_softmax_jacobian_over_tau():
    logits, tau = tf.constant(LOGITS), 0.4
    upstream = np.random.default_rng(4).normal(size=K)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        output = straight_through_one_hot(logits, tf.eye(K, dtype=tf.float64)[0], tau)
        total = tf.reduce_sum(output * upstream)
    expected = _jacobian(_softmax(LOGITS / tau)) @ upstream / tau
    np.testing.assert_allclose(tape.gradient(total, logits).numpy(), expected, atol=1e-12)


def test_straight_through_gumbel_softmax_is_hard_forward_and_soft_backward():
    logits = tf.constant(LOGITS)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        estimate = straight_through_gumbel_softmax(quadratic, logits, 0.5, (7, 8))
    sample = estimate.sample.numpy()
    assert sample.sum() == 1 and np.max(sample) == 1
    gradient = tape.gradient(estimate.surrogate, logits).numpy()
    assert np.all(np.isfinite(gradient)) and np.linalg.norm(gradient) > 0


def test_reinforce_gradient_is_f_times_the_score():
    logits = tf.constant(LOGITS)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        estimate = reinforce(quadratic, logits, (9, 10))
    d = estimate.sample.numpy()
    assert estimate.surrogate.numpy() == pytest.approx(quadratic(tf.constant(d)).numpy())
    expected = quadratic(tf.constant(d)).numpy() * (d - _softmax(LOGITS))
    gradient = tape.gradient(estimate.surrogate, logits).numpy()
    np.testing.assert_allclose(gradient, expected, atol=1e-12)


def test_reinmax_is_exactly_unbiased_for_a_quadratic_at_tau_one_and_st_is_not():
    """Heun's (trapezoid) rule is exact for quadratics: E[ReinMax] = grad L at tau = 1."""
    exact = exact_gradient(quadratic)
    reinmax_mean = expected_estimate(reinmax_one_hot, quadratic, 1.0)
    st_mean = expected_estimate(straight_through_one_hot, quadratic, 1.0)
    np.testing.assert_allclose(reinmax_mean, exact, atol=1e-13)
    assert np.linalg.norm(st_mean - exact) > 0.05 * np.linalg.norm(exact)
    # Away from tau = 1 the identity breaks: ReinMax is then biased too.
    assert np.linalg.norm(expected_estimate(reinmax_one_hot, quadratic, 0.5) - exact) > 1e-3


def test_reinmax_is_second_order_and_st_first_order_as_the_curvature_shrinks():
    """For f_s(b) = exp(s c . b) / s, f_s'' = O(s) and f_s''' = O(s^2) while grad L = O(1):
    ST's relative bias (forward Euler, error f'') falls like s, ReinMax's (Heun, error f''')
    like s^2. Exact expectations by enumeration over the K categories (no sampling)."""
    scales = np.array([0.4, 0.2, 0.1, 0.05])
    relative = {"st": [], "reinmax": []}
    for s in scales:
        f = exponential(s)
        exact = exact_gradient(f)
        for name, estimator in (("st", straight_through_one_hot), ("reinmax", reinmax_one_hot)):
            mean = expected_estimate(estimator, f, 1.0)
            relative[name].append(np.linalg.norm(mean - exact) / np.linalg.norm(exact))
    slope = {
        name: np.polyfit(np.log(scales), np.log(values), 1)[0]
        for name, values in relative.items()
    }
    assert slope["st"] == pytest.approx(1.0, abs=0.15)
    assert slope["reinmax"] == pytest.approx(2.0, abs=0.15)
    assert all(r < s for r, s in zip(relative["reinmax"], relative["st"]))


def test_straight_through_gumbel_softmax_bias_does_not_shrink_with_the_curvature():
    """ST-GS differentiates the relaxed psi, so even for a nearly linear f its relative bias
    stays of order one at tau = 1 (Monte Carlo, 50,000 draws; noise about 0.003)."""
    logits = tf.broadcast_to(tf.constant(LOGITS), [50_000, K])
    relative = []
    for s in (0.4, 0.05):
        f = exponential(s)
        with tf.GradientTape() as tape:
            tape.watch(logits)
            estimate = straight_through_gumbel_softmax(f, logits, 1.0, (11, 12))
            total = tf.reduce_sum(estimate.surrogate)
        mean = tape.gradient(total, logits).numpy().mean(0)
        exact = exact_gradient(f)
        relative.append(np.linalg.norm(mean - exact) / np.linalg.norm(exact))
    assert min(relative) > 0.15 and relative[1] > 0.8 * relative[0]
