"""Sampling behaviour, truncation, compiled use and parameter errors of every family."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from igr.distributions import (
    IGRI,
    IGRSB,
    GumbelSoftmax,
    IGRPlanar,
    TruncatedIGRSB,
    training_kl,
)
from tests.distributions._families import F64, FAMILIES, make


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_gives_same_samples(family):
    distribution = make(family, 6, 0.5)
    first = distribution.sample(10, seed=(11, 12)).numpy()
    second = distribution.sample(10, seed=(11, 12)).numpy()
    other = distribution.sample(10, seed=(11, 13)).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)
    compiled = tf.function(lambda seed: distribution.sample(10, seed=seed))
    np.testing.assert_array_equal(compiled(tf.constant([11, 12])).numpy(), first)


@pytest.mark.parametrize("family", FAMILIES)
def test_sample_and_sample_and_log_prob_draw_the_same_psi(family):
    distribution = make(family, 6, 0.4)
    psi = distribution.sample([3, 2], seed=(8, 9))
    joint, log_prob = distribution.experimental_sample_and_log_prob([3, 2], seed=(8, 9))
    np.testing.assert_allclose(psi, joint, rtol=1e-12, atol=1e-15)
    # log_prob of the sample itself goes through the bijector's cache (exact inverse).
    np.testing.assert_allclose(distribution.log_prob(psi), log_prob, rtol=1e-8)


def test_truncated_igr_sb_same_seed_same_samples():
    distribution = TruncatedIGRSB(tf.zeros([3, 29]), tf.ones([3, 29]), 0.1)
    a = distribution.sample_with_truncation(4, seed=(1, 2))
    b = distribution.sample_with_truncation(4, seed=(1, 2))
    np.testing.assert_array_equal(a.psi.numpy(), b.psi.numpy())


@pytest.mark.parametrize("family", FAMILIES)
def test_samples_are_reparameterised(family):
    loc = tf.Variable(tf.zeros([4], F64))
    with tf.GradientTape() as tape:
        if family == "gs":
            distribution = GumbelSoftmax(tf.concat([loc, tf.zeros([1], F64)], 0), 0.5)
        elif family == "igr_planar":
            flows = tf.ones([2, 4], F64)
            distribution = IGRPlanar(loc, tf.ones([4], F64), 0.5, flows, flows, tf.zeros([2], F64))
        else:
            distribution = {"igr_i": IGRI, "igr_sb": IGRSB}[family](loc, tf.ones([4], F64), 0.5)
        psi = distribution.sample(100, seed=(1, 1))
        objective = tf.reduce_sum(psi * tf.range(5, dtype=F64))
    gradient = tape.gradient(objective, loc)
    assert gradient is not None and np.all(np.isfinite(gradient.numpy()))
    assert np.any(np.abs(gradient.numpy()) > 1e-3)


def test_straight_through_is_one_hot_forward_with_relaxed_gradient():
    logits = tf.Variable([1.0, 0.5, -0.5])
    with tf.GradientTape() as tape:
        hard = GumbelSoftmax(logits, 0.5, straight_through=True).sample(50, seed=(2, 3))
        objective = tf.reduce_sum(hard * tf.constant([1.0, 2.0, 3.0]))
    relaxed = GumbelSoftmax(logits, 0.5).sample(50, seed=(2, 3))
    np.testing.assert_array_equal(hard.numpy(), tf.one_hot(tf.argmax(relaxed, -1), 3).numpy())
    gradient = tape.gradient(objective, logits)
    assert np.any(np.abs(gradient.numpy()) > 1e-3)


def reference_truncation(kappa, threshold, quantile, max_categories):
    """The rule of spec 1.6, in NumPy, on draws [..., K_max - 1]."""
    v = 1 / (1 + np.exp(-kappa))
    prefix = np.cumprod(np.concatenate([np.ones_like(v[..., :1]), 1 - v[..., :-1]], -1), -1)
    pieces = v * prefix
    reached = np.cumsum(pieces, -1) >= threshold
    first = np.where(reached.any(-1), reached.argmax(-1) + 1, max_categories - 1)
    n = (first + 1).ravel()
    n_star = np.sort(n)[int(np.ceil(quantile * (n.size - 1)))]
    return min(n_star, max_categories - 1) + 1, n_star > max_categories - 1, pieces


@pytest.mark.parametrize("jit_compile", [False, True])
def test_truncated_igr_sb_runs_compiled_and_keeps_the_remainder_mass(jit_compile):
    rng = np.random.default_rng(0)
    max_categories = 30
    loc = tf.constant(rng.normal(-1.0, 0.5, (4, max_categories - 1)), tf.float32)
    distribution = TruncatedIGRSB(loc, tf.ones_like(loc), 0.1, threshold=0.9, quantile=0.75)

    @tf.function(jit_compile=jit_compile)
    def draw(seed):
        result = distribution.sample_with_truncation(16, seed=seed)
        return result.psi, result.kappa, result.pieces, result.num_categories, result.cap_hit

    psi, kappa, pieces, m, cap_hit = (t.numpy() for t in draw(tf.constant([3, 4])))
    expected_m, expected_cap, full_pieces = reference_truncation(
        kappa.astype(np.float64), 0.9, 0.75, max_categories
    )
    assert m == expected_m and bool(cap_hit) == expected_cap
    assert 2 <= m <= max_categories
    np.testing.assert_allclose(pieces[..., : m - 1], full_pieces[..., : m - 1], rtol=1e-4)
    # The remainder holds exactly the mass that the kept pieces leave.
    np.testing.assert_allclose(pieces[..., m - 1], 1 - full_pieces[..., : m - 1].sum(-1), atol=1e-5)
    assert np.all(pieces[..., m:] == 0) and np.all(psi[..., m:] == 0)
    np.testing.assert_allclose(psi.sum(-1), 1.0, atol=1e-5)


def test_truncated_igr_sb_reports_hitting_the_cap():
    # Sticks near 0 leave most mass in the remainder: 0.99 of it needs more than 5 sticks.
    distribution = TruncatedIGRSB(tf.fill([2, 4], -3.0), tf.ones([2, 4]), 0.1, threshold=0.99)
    result = distribution.sample_with_truncation(8, seed=(1, 1))
    assert bool(result.cap_hit) and int(result.num_categories) == 5


def test_truncated_log_prob_equals_finite_igr_sb_of_the_kept_categories():
    rng = np.random.default_rng(1)
    loc = tf.constant(rng.normal(0, 1, (3, 11)), F64)
    scale = tf.constant(rng.uniform(0.5, 1.5, (3, 11)), F64)
    truncated = TruncatedIGRSB(loc, scale, tf.constant(0.3, F64))
    m = 5
    finite = IGRSB(loc[:, : m - 1], scale[:, : m - 1], tf.constant(0.3, F64))
    psi_finite = finite.sample(7, seed=(2, 2))
    psi = tf.concat([psi_finite, tf.zeros([7, 3, 12 - m], F64)], -1)
    np.testing.assert_allclose(
        truncated.log_prob(psi, num_categories=m),
        finite.log_prob(tf.identity(psi_finite)),
        rtol=1e-8,
    )


def test_truncated_sample_and_log_prob_match_log_prob_under_the_batch_truncation():
    rng = np.random.default_rng(2)
    loc = tf.constant(rng.normal(-0.5, 1.0, (3, 14)), F64)
    scale = tf.constant(rng.uniform(0.5, 1.5, (3, 14)), F64)
    truncated = TruncatedIGRSB(loc, scale, tf.constant(0.4, F64), threshold=0.9, quantile=0.5)
    draws, log_prob = truncated._draw([6], tf.constant([5, 6]))
    m = int(draws.num_categories)
    assert 2 <= m < 15
    np.testing.assert_allclose(
        log_prob, truncated.log_prob(tf.identity(draws.psi), num_categories=m), rtol=1e-9
    )
    # The same draws through the finite IGR-SB of the first m categories.
    finite = IGRSB(loc[:, : m - 1], scale[:, : m - 1], tf.constant(0.4, F64))
    np.testing.assert_allclose(log_prob, finite.log_prob(draws.psi[..., :m]), rtol=1e-9)


def test_families_compile_with_xla_for_a_training_step():
    loc = tf.Variable(tf.zeros([8, 20, 9]))
    prior = IGRI(tf.zeros([20, 9]), tf.ones([20, 9]), 0.5)

    @tf.function(jit_compile=True)
    def step(seed):
        with tf.GradientTape() as tape:
            q = IGRI(loc, tf.ones_like(loc), 0.5)
            psi = q.sample(seed=seed)
            loss = tf.reduce_sum(training_kl(q, prior)) + tf.reduce_sum(psi[..., 0])
        return loss, tape.gradient(loss, loc)

    loss, gradient = step(tf.constant([1, 2]))
    assert np.isfinite(loss.numpy()) and gradient.shape == (8, 20, 9)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: GumbelSoftmax([0.0], 0.5), "number of categories K must be >= 2"),
        (lambda: GumbelSoftmax([0.0, 1.0], 0.0), "temperature.*> 0"),
        (lambda: IGRI(tf.zeros([3, 0]), tf.ones([3, 0]), 0.5), "K minus 1 must be >= 1"),
        (lambda: IGRI([0.0, 1.0], [1.0, 1.0], -1.0), "temperature.*> 0"),
        (lambda: IGRI(tf.zeros([3, 4]), tf.ones([2, 4]), 0.5), "do not broadcast"),
        (lambda: IGRI([0.0, 1.0], [1.0, 0.0], 0.5), "scale.*> 0"),
        (lambda: IGRSB([0.0, 1.0], [1.0, 1.0], 0.0), "temperature.*> 0"),
        (lambda: TruncatedIGRSB(tf.zeros([9]), tf.ones([9]), 0.1, threshold=1.0), "threshold"),
        (lambda: TruncatedIGRSB(tf.zeros([9]), tf.ones([9]), 0.1, quantile=0.0), "quantile"),
        (
            lambda: IGRPlanar(
                tf.zeros([4]), tf.ones([4]), 0.5, tf.ones([2, 3]), tf.ones([2, 3]), tf.zeros([2])
            ),
            "flow_u",
        ),
    ],
)
def test_invalid_parameters_raise_clear_value_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_box_muller_draws_are_standard_normal():
    from scipy import stats

    from igr.distributions._sampling import standard_normal

    draws = standard_normal([4000, 7], tf.float64, seed=(9, 9)).numpy()
    assert draws.shape == (4000, 7)
    for column in range(7):  # the cos half, the sin half and the odd last column
        assert stats.kstest(draws[:, column], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(draws[:, 0], draws[:, 4])[0, 1]) < 0.06  # cos/sin pair independent


def gradient_test_parameters(rng, size, trainable_temperature):
    """`(loc [4, size], scale [size] (broadcast), temperature, variables)`; the temperature is
    a Variable with one value per batch member, or the Python number 0.4."""
    loc = tf.Variable(rng.normal(size=(4, size)))
    scale = tf.Variable(rng.uniform(0.5, 2.0, size=(size,)))
    if trainable_temperature:
        temperature = tf.Variable([0.3, 0.5, 0.8, 1.3], dtype=F64)
        return loc, scale, temperature, [loc, scale, temperature]
    return loc, scale, 0.4, [loc, scale]


@pytest.mark.parametrize("trainable_temperature", [False, True])
def test_igr_i_gradients_match_autodiff_of_the_definitions_on_the_same_draws(
    trainable_temperature,
):
    rng = np.random.default_rng(21)
    loc, scale, temperature, variables = gradient_test_parameters(rng, 5, trainable_temperature)
    if trainable_temperature:
        delta = tf.Variable(1.7, dtype=F64)
        variables.append(delta)
    else:
        delta = 1.0
    weights = tf.constant(rng.normal(size=6))

    def objective(psi, log_prob):
        return tf.reduce_sum(psi * weights) + tf.reduce_sum(tf.sin(log_prob / 10.0))

    with tf.GradientTape() as tape:
        distribution = IGRI(loc, scale, temperature, delta=delta)
        psi, log_prob = distribution.experimental_sample_and_log_prob(3, seed=(5, 6))
        ours = objective(psi, log_prob)
    our_gradients = tape.gradient(ours, variables)

    # The same Gaussian draws, recovered through the exact inverse, then plain autodiff.
    noise = tf.stop_gradient((distribution.bijector.inverse(psi) - loc) / scale)
    with tf.GradientTape() as tape:
        tau = tf.convert_to_tensor(temperature, F64)[..., tf.newaxis]
        lam = loc + scale * noise
        x = lam / tau - tf.math.log(tf.convert_to_tensor(delta, F64))[..., tf.newaxis]
        log_psi = tf.math.log_softmax(tf.concat([x, tf.zeros([3, 4, 1], F64)], -1))
        reference_log_prob = (
            tf.reduce_sum(tfp.distributions.Normal(loc, scale).log_prob(lam), -1)
            + 5.0 * tf.math.log(tau[..., 0])
            - tf.reduce_sum(log_psi, -1)
        )
        reference = objective(tf.math.exp(log_psi), reference_log_prob)
    reference_gradients = tape.gradient(reference, variables)

    np.testing.assert_allclose(log_prob, reference_log_prob, rtol=1e-10)
    for ours, expected in zip(our_gradients, reference_gradients):
        assert ours is not None
        np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-10)


def test_igr_i_sample_and_log_prob_under_tf_function_with_an_unknown_batch_size():
    loc = tf.Variable(np.random.default_rng(2).normal(size=(6, 3, 4)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, 3, 4], tf.float32)])
    def step(batch_loc):
        with tf.GradientTape() as tape:
            tape.watch(batch_loc)
            psi, log_prob = IGRI(
                batch_loc, tf.ones_like(batch_loc), 0.5
            ).experimental_sample_and_log_prob(2, seed=(1, 2))
            total = tf.reduce_sum(log_prob)
        return psi, log_prob, tape.gradient(total, batch_loc)

    for size in (6, 2):
        psi, log_prob, gradient = step(loc[:size])
        assert psi.shape == (2, size, 3, 5) and gradient.shape == (size, 3, 4)
        expected = IGRI(loc[:size], tf.ones([size, 3, 4]), 0.5).log_prob(psi)
        np.testing.assert_allclose(log_prob, expected, rtol=1e-4, atol=1e-4)
        assert np.all(np.isfinite(gradient))


def stick_breaking_reference(kappa, loc, scale, temperature, m, max_categories):
    """`(psi, eta, log p)` of the IGR-SB of m categories from the definitions (spec 1.5):
    plain ops for autodiff, `psi` and `eta` padded with zeros to `max_categories`."""
    tau = tf.convert_to_tensor(temperature, F64)[..., tf.newaxis]
    v = tf.math.sigmoid(kappa[..., : m - 1])
    remaining = tf.math.cumprod(1.0 - v, axis=-1, exclusive=True)
    pieces = tf.concat([v * remaining, remaining[..., -1:] * (1.0 - v[..., -1:])], -1)
    log_psi = tf.math.log_softmax(pieces / tau)
    log_det = (
        tf.reduce_sum(tf.math.log(pieces), -1)
        + np.log(m)
        - (m - 1) * tf.math.log(tau[..., 0])
        + tf.reduce_sum(log_psi, -1)
    )
    log_normal = tfp.distributions.Normal(loc, scale).log_prob(kappa)[..., : m - 1]
    empty = [[0, 0]] * (kappa.shape.rank - 1) + [[0, max_categories - m]]
    return (
        tf.pad(tf.math.exp(log_psi), empty),
        tf.pad(pieces, empty),
        tf.reduce_sum(log_normal, -1) - log_det,
    )


@pytest.mark.parametrize("trainable_temperature", [False, True])
def test_truncated_igr_sb_gradients_match_autodiff_of_the_definitions_on_the_same_draws(
    trainable_temperature,
):
    rng = np.random.default_rng(3)
    loc, scale, temperature, variables = gradient_test_parameters(rng, 9, trainable_temperature)
    weights = [tf.constant(rng.normal(size=size)) for size in (10, 10, 9)]

    def objective(psi, log_prob, pieces, kappa):
        return (
            tf.reduce_sum(psi * weights[0])
            + tf.reduce_sum(tf.sin(log_prob / 10.0))
            + tf.reduce_sum(pieces * weights[1])
            + tf.reduce_sum(kappa * weights[2])
        )

    with tf.GradientTape() as tape:
        distribution = TruncatedIGRSB(loc, scale, temperature, threshold=0.8, quantile=0.6)
        draws, log_prob = distribution._draw([3], (4, 5))
        ours = objective(draws.psi, log_prob, draws.pieces, draws.kappa)
    our_gradients = tape.gradient(ours, variables)
    m = int(draws.num_categories)
    assert 2 <= m < 10

    # The same draws and truncation, by plain autodiff through the definitions.
    noise = tf.stop_gradient((draws.kappa - loc) / scale)
    with tf.GradientTape() as tape:
        kappa = loc + scale * noise
        psi, pieces, reference_log_prob = stick_breaking_reference(
            kappa, loc, scale, temperature, m, 10
        )
        reference = objective(psi, reference_log_prob, pieces, kappa)
    reference_gradients = tape.gradient(reference, variables)

    np.testing.assert_allclose(log_prob, reference_log_prob, rtol=1e-10)
    for ours, expected in zip(our_gradients, reference_gradients):
        np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("trainable_temperature", [False, True])
def test_igr_sb_gradients_match_autodiff_of_the_definitions_on_the_same_draws(
    trainable_temperature,
):
    rng = np.random.default_rng(8)
    loc, scale, temperature, variables = gradient_test_parameters(rng, 6, trainable_temperature)
    weights = tf.constant(rng.normal(size=7))

    def objective(psi, log_prob):
        return tf.reduce_sum(psi * weights) + tf.reduce_sum(tf.sin(log_prob / 10.0))

    with tf.GradientTape() as tape:
        distribution = IGRSB(loc, scale, temperature)
        psi, log_prob = distribution.experimental_sample_and_log_prob(3, seed=(2, 3))
        ours = objective(psi, log_prob)
    our_gradients = tape.gradient(ours, variables)

    noise = tf.stop_gradient((distribution.bijector.inverse(psi) - loc) / scale)
    with tf.GradientTape() as tape:
        kappa = loc + scale * noise
        reference_psi, _, reference_log_prob = stick_breaking_reference(
            kappa, loc, scale, temperature, 7, 7
        )
        reference = objective(reference_psi, reference_log_prob)
    reference_gradients = tape.gradient(reference, variables)

    np.testing.assert_allclose(log_prob, reference_log_prob, rtol=1e-9)
    for ours, expected in zip(our_gradients, reference_gradients):
        np.testing.assert_allclose(ours, expected, rtol=1e-7, atol=1e-9)


def test_planar_lambda_draws_and_density_match_tfps_composition_without_its_cache():
    # The lambda law draws lambda and log q(lambda) in one pass through the layers; TFP's
    # TransformedDistribution over the same base and Chain must agree on a copy of the draw
    # (tf.identity: no bijector cache, so the inverse is the bisection). The flow has the
    # variables' batch shape [V] and broadcasts against loc [B, V].
    rng = np.random.default_rng(3)
    loc = tf.constant(rng.normal(size=[5, 2, 4]), F64)
    scale = tf.constant(np.exp(rng.normal(size=[5, 2, 4])), F64)
    flow_u = tf.constant(rng.normal(size=[2, 3, 4]), F64)
    flow_w = tf.constant(rng.normal(size=[2, 3, 4]), F64)
    flow_b = tf.constant(rng.normal(size=[2, 3]), F64)
    law = IGRPlanar(loc, scale, 0.5, flow_u, flow_w, flow_b).distribution
    composition = tfp.distributions.TransformedDistribution(law.distribution, law.bijector)
    lam, log_prob = law.experimental_sample_and_log_prob([3], seed=(4, 5))
    assert lam.shape == [3, 5, 2, 4] and log_prob.shape == [3, 5, 2]
    np.testing.assert_array_equal(lam.numpy(), law.sample([3], seed=(4, 5)).numpy())
    np.testing.assert_allclose(composition.log_prob(tf.identity(lam)), log_prob, rtol=1e-9)
