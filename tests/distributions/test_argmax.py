"""Argmax (discrete) laws: exact formulas against Monte-Carlo frequencies."""

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions import IGRI, IGRSB, GumbelSoftmax, igr_i_argmax_probs
from tests.distributions._families import F64

NUM_SAMPLES = 200_000


def assert_close_to_frequencies(exact, frequencies):
    standard_error = np.sqrt(np.maximum(exact * (1 - exact), 1e-6) / NUM_SAMPLES)
    assert np.all(np.abs(exact - frequencies) < 5 * standard_error), (exact, frequencies)


@pytest.mark.parametrize("delta", [1.0, 2.0])
def test_igr_i_exact_argmax_agrees_with_frequencies_for_unequal_sigmas(delta):
    loc = tf.constant([[0.3, -0.2, 0.8, 0.0], [1.0, -1.0, 0.5, -0.5]], F64)
    scale = tf.constant([[0.2, 1.5, 3.0, 0.7], [4.0, 0.1, 1.0, 2.0]], F64)
    distribution = IGRI(loc, scale, tf.constant(0.4, F64), tf.constant(delta, F64))
    exact = distribution.argmax_probs().numpy()
    np.testing.assert_allclose(exact.sum(-1), 1.0, atol=1e-6)
    frequencies = distribution.monte_carlo_argmax_probs(NUM_SAMPLES, seed=(1, 2)).numpy()
    assert_close_to_frequencies(exact, frequencies)


def test_reference_quadrature_would_fail_this_check():
    """The reference evaluated Phi(sqrt(2) y - mu_j / sigma_j) after t = sqrt(2) sigma_k y,
    i.e. it used sigma_k where sigma_j belongs. With unequal sigmas that is far off."""
    from scipy import integrate, stats

    loc, scale = np.array([0.3, -0.2]), np.array([0.2, 3.0])

    def reference_p0(y):
        t = np.sqrt(2) * scale[0] * y
        return (
            stats.norm.pdf(t, loc[0], scale[0])
            * np.sqrt(2)
            * scale[0]
            * stats.norm.cdf(np.sqrt(2) * y - loc[1] / scale[1])
        )

    wrong = integrate.quad(reference_p0, 0, np.inf)[0]
    exact = IGRI(tf.constant(loc, F64), tf.constant(scale, F64), 1.0).argmax_probs().numpy()[0]
    assert abs(wrong - exact) > 0.05


def test_gumbel_softmax_argmax_is_softmax_of_logits():
    logits = tf.constant([0.5, -1.0, 2.0, 0.0], F64)
    distribution = GumbelSoftmax(logits, tf.constant(0.3, F64))
    exact = distribution.argmax_probs().numpy()
    np.testing.assert_allclose(exact, tf.math.softmax(logits), rtol=1e-12)
    categories = distribution.sample_argmax(NUM_SAMPLES, seed=(3, 3)).numpy()
    frequencies = np.bincount(categories, minlength=4) / NUM_SAMPLES
    assert_close_to_frequencies(exact, frequencies)


@pytest.mark.parametrize("num_categories", [2, 10])
def test_every_igr_sb_category_can_win(num_categories):
    # Batch member k: sticks before k near 0 and stick k near 1, so category k should win;
    # the last member has every stick near 0, so the remainder (category K) should win.
    loc = np.full((num_categories, num_categories - 1), -4.0)
    for k in range(num_categories - 1):
        loc[k, k] = 4.0
    distribution = IGRSB(tf.constant(loc, F64), tf.ones_like(loc), tf.constant(0.1, F64))
    probs = distribution.argmax_probs(20_000, seed=(4, 4)).numpy()
    assert probs.shape == (num_categories, num_categories)
    assert np.all(np.diag(probs) > 0.9), np.diag(probs)


def test_binary_igr_sb_is_not_constant():
    probs = IGRSB(tf.zeros([1], F64), tf.ones([1], F64), 0.1).argmax_probs(20_000, seed=(1, 4))
    np.testing.assert_allclose(probs, [0.5, 0.5], atol=0.02)


def test_igr_sb_samples_approach_vertices_as_temperature_falls():
    loc, scale = tf.zeros([9], F64), tf.ones([9], F64)
    maxima = [
        np.median(
            tf.reduce_max(IGRSB(loc, scale, tf.constant(t, F64)).sample(2000, seed=(1, 1)), -1)
        )
        for t in (1.0, 0.1, 0.01)
    ]
    assert maxima[0] < maxima[1] < maxima[2]
    assert maxima[2] > 0.99


def _igr_i_law_by_scipy(loc, scale):
    """P(k) = int N(t; mu_k, s_k) prod_{j != k} Phi((t - mu_j) / s_j) dt over t > 0, and
    P(K) = prod_j Phi(-mu_j / s_j), by adaptive quadrature in float64 (delta = 1)."""
    from scipy import integrate, stats

    probs = []
    for k in range(len(loc)):
        def integrand(t, k=k):
            log_density = stats.norm.logpdf(t, loc[k], scale[k])
            others = sum(stats.norm.logcdf((t - loc[j]) / scale[j])
                         for j in range(len(loc)) if j != k)
            return np.exp(log_density + others)
        probs.append(integrate.quad(integrand, 0.0, np.inf, epsabs=1e-14, epsrel=1e-10)[0])
    probs.append(np.exp(sum(stats.norm.logcdf(-m / s) for m, s in zip(loc, scale))))
    return np.array(probs)


@pytest.mark.parametrize("dtype", [tf.float32, F64])
def test_igr_i_law_matches_adaptive_quadrature_including_small_probabilities(dtype):
    """The floored log Phi of the product (igr.distributions.argmax) costs no accuracy: a
    confident posterior's small probabilities (down to ~1e-12) keep their relative error."""
    cases = [
        ([0.3, -0.2, 0.8, 0.0], [0.2, 1.5, 3.0, 0.7]),
        ([3.0, -1.5, 1.0, -2.0], [0.5, 0.8, 1.0, 0.3]),  # confident: small losers
    ]
    for loc, scale in cases:
        expected = _igr_i_law_by_scipy(np.array(loc), np.array(scale))
        exact = IGRI(tf.constant(loc, dtype), tf.constant(scale, dtype), tf.constant(0.4, dtype),
                     tf.constant(1.0, dtype)).argmax_probs().numpy()
        big = expected > 1e-12
        assert big.sum() >= 3
        np.testing.assert_allclose(exact[big], expected[big],
                                   rtol=1e-4 if dtype == tf.float32 else 1e-6)


def test_igr_i_law_with_xla_equals_graph_mode_inside_a_graph_function():
    """jit_compile=True (the VAE bound's bound_kernels part) gives the same law to rounding,
    also when called from a graph-mode tf.function, and its gradient."""
    rng = np.random.default_rng(3)
    loc = tf.constant(rng.normal(size=(4, 3, 6)).astype(np.float32))
    scale = tf.constant(np.exp(0.5 * rng.normal(size=(4, 3, 6))).astype(np.float32))
    threshold = tf.zeros([4, 3])

    @tf.function
    def both(loc):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(loc)
            plain = igr_i_argmax_probs(loc, scale, threshold)
            compiled = igr_i_argmax_probs(loc, scale, threshold, jit_compile=True)
            weights = tf.range(7, dtype=tf.float32)
            plain_sum, compiled_sum = (tf.reduce_sum(p * weights) for p in (plain, compiled))
        return plain, compiled, tape.gradient(plain_sum, loc), tape.gradient(compiled_sum, loc)

    plain, compiled, grad_plain, grad_compiled = (t.numpy() for t in both(loc))
    np.testing.assert_allclose(compiled, plain, atol=1e-6)
    np.testing.assert_allclose(grad_compiled, grad_plain, atol=1e-5)
    np.testing.assert_allclose(compiled.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("quantile", [0.5, 0.75, 1.0])
@pytest.mark.parametrize("jit", [False, True])
def test_truncation_quantile_by_counting_equals_the_sorted_element(quantile, jit):
    """m = n* + 1 with n* element ceil(q (N - 1)) of the sorted n, capped at K_max - 1."""
    from igr.distributions.igr_stick_breaking import truncation_num_categories

    rng = np.random.default_rng(int(quantile * 100) + jit)
    k_max, threshold = 8, 0.9
    choose = tf.function(truncation_num_categories, jit_compile=jit)
    for scale in (0.05, 0.3, 2.0):  # few, some and all sticks needed to reach the threshold
        prefix = -np.cumsum(scale * rng.exponential(size=(37, 5, k_max)), -1).astype(np.float32)
        prefix = np.concatenate([np.zeros_like(prefix[..., :1]), prefix[..., :-1]], -1)
        n = np.minimum((prefix > np.log1p(-threshold)).sum(-1) + 1, k_max).ravel()
        n_star = np.sort(n)[int(np.ceil(quantile * (n.size - 1)))]
        m, cap_hit = choose(tf.constant(prefix), threshold, quantile, k_max)
        assert int(m) == min(n_star, k_max - 1) + 1 and bool(cap_hit) == (n_star > k_max - 1)
