"""The double_linear SOP network (spec 6): loss formula, hand computations, units."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit, logsumexp

from igr.experiments.sop import SOP_FAMILIES as CLI_FAMILIES
from igr.models.sop import (
    SOP_FAMILIES,
    DoubleLinearSOP,
    decayed_learning_rate,
    sop_loss_from_log_likelihoods,
    split_halves,
)


def _tiny_network(family="gs", temperature=0.5):
    """2 -> 2 units -> 2 units -> 2 outputs, with hand-set weights."""
    model = DoubleLinearSOP(
        family, 2, 2, hidden_units=2, temperature=temperature, seed=1
    )
    return model


def _set_gs_weights(
    model, first_logits, second_kernel, second_bias, out_kernel, out_bias
):
    # first layer: zero kernel, biases = the unit logits (input-independent)
    model.first.dense.kernel.assign(tf.zeros([2, 2]))
    model.first.dense.bias.assign(first_logits)
    model.second.dense.kernel.assign(second_kernel)
    model.second.dense.bias.assign(second_bias)
    model.output_layer.kernel.assign(out_kernel)
    model.output_layer.bias.assign(out_bias)


def _log_bernoulli(x, logits):
    p = expit(logits)
    return np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)


def test_families_agree_with_the_cli():
    assert CLI_FAMILIES == SOP_FAMILIES


def test_loss_from_log_likelihoods_is_minus_log_mean_likelihood():
    log_p = np.log(np.array([[0.2, 0.5], [0.4, 0.1], [0.3, 0.3]]))  # [M=3, B=2]
    loss = sop_loss_from_log_likelihoods(tf.constant(log_p)).numpy()
    np.testing.assert_allclose(loss, -np.log(np.array([0.9, 0.9]) / 3), rtol=1e-12)


def test_loss_with_deterministic_units_equals_a_hand_computation():
    model = _tiny_network()
    # Huge logits make every unit deterministic: z1 = (1, 0), so 2 z1 - 1 = (1, -1).
    out_kernel = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    _set_gs_weights(
        model,
        first_logits=[80.0, -80.0],
        second_kernel=np.array([[60.0, -60.0], [0.0, 0.0]], np.float32),
        second_bias=[0.0, 0.0],
        out_kernel=out_kernel,
        out_bias=np.array([0.1, -0.2], np.float32),
    )
    # z2 = (1, 0) -> output logits = (1, -1) @ out_kernel + b
    logits = np.array([1.0, -1.0]) @ out_kernel + np.array([0.1, -0.2])
    x_up = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    x_low = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    expected = -_log_bernoulli(x_low, logits[None, :])
    for num_samples, hard in ((1, False), (3, False), (5, True)):
        loss = model.loss_per_example(
            x_up, tf.constant(x_low), (3, 4), num_samples, hard
        )
        np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5)
    assert float(model.loss(x_up, tf.constant(x_low), (3, 4))) == pytest.approx(
        expected.mean(), rel=1e-5
    )


@pytest.mark.parametrize("family", ["gs", "st_gs", "reinmax"])
def test_hard_sample_loss_with_m_samples_matches_the_exact_expectation(family):
    """With hard GS units P(z = 1) = sigmoid(logit) exactly, so for large M the loss tends to
    -log sum_{z1, z2} P(z1) P(z2 | z1) p(x_low | z2), enumerated by hand here; the same for
    the baselines ST-GS (argmax of the GS draw) and ReinMax (an exact Bernoulli draw)."""
    model = _tiny_network(family)
    first_logits = np.array([0.4, -0.7], np.float32)
    second_kernel = np.array([[1.2, -0.5], [0.3, 0.8]], np.float32)
    second_bias = np.array([-0.2, 0.1], np.float32)
    out_kernel = np.array([[1.5, -2.0], [-1.0, 0.5]], np.float32)
    out_bias = np.array([0.3, -0.4], np.float32)
    _set_gs_weights(
        model, first_logits, second_kernel, second_bias, out_kernel, out_bias
    )
    x_low = np.array([1.0, 0.0], np.float32)

    def bernoulli_log_prob(z, logits):
        return np.sum(z * np.log(expit(logits)) + (1 - z) * np.log(expit(-logits)))

    terms = []
    for z1 in itertools.product([0.0, 1.0], repeat=2):
        z1 = np.array(z1)
        second_logits = (2 * z1 - 1) @ second_kernel + second_bias
        for z2 in itertools.product([0.0, 1.0], repeat=2):
            z2 = np.array(z2)
            out = (2 * z2 - 1) @ out_kernel + out_bias
            terms.append(
                bernoulli_log_prob(z1, first_logits)
                + bernoulli_log_prob(z2, second_logits)
                + _log_bernoulli(x_low, out)
            )
    exact = -logsumexp(terms)
    loss = model.loss(
        tf.zeros([1, 2]), tf.constant([x_low]), (5, 6), 200_000, hard=True
    )
    assert float(loss) == pytest.approx(exact, abs=0.01)
    # M = 1 is a different (larger in expectation, Jensen) quantity: average many of them.
    single = model.loss_per_example(
        tf.zeros([20_000, 2]),
        tf.constant(np.tile(x_low, (20_000, 1))),
        (7, 8),
        1,
        hard=True,
    )
    assert float(tf.reduce_mean(single)) > exact + 0.05


@pytest.mark.parametrize("family", SOP_FAMILIES)
def test_units_are_relaxed_in_the_unit_interval_and_hard_in_zero_one(family):
    model = DoubleLinearSOP(family, 6, 4, hidden_units=5, temperature=0.3, seed=2)
    x = tf.constant(np.random.default_rng(0).integers(0, 2, size=(7, 6)), tf.float32)
    relaxed = model.first(x, (1, 2))
    hard = model.first(x, (1, 2), hard=True)
    assert relaxed.shape == (7, 5) and hard.shape == (7, 5)
    assert np.all((relaxed.numpy() >= 0) & (relaxed.numpy() <= 1))
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
    # the hard unit is the argmax of the same relaxed draw
    np.testing.assert_array_equal(
        hard.numpy(), (relaxed.numpy() >= 0.5).astype(np.float32)
    )
    logits = model.output_logits(x, (3, 4))
    assert logits.shape == (7, 4)


def test_igr_i_units_honour_the_temperature():
    """psi = sigmoid(kappa / tau): the same Gaussian draw is sharper at a lower tau."""
    draws = {}
    for tau in (1.0, 0.1):
        model = DoubleLinearSOP(
            "igr_i", 3, 2, hidden_units=400, temperature=tau, seed=4
        )
        draws[tau] = model.first(tf.ones([1, 3]), (9, 9)).numpy()
    kappa = np.log(draws[1.0]) - np.log1p(-draws[1.0])  # logit(psi) at tau = 1 is kappa
    np.testing.assert_allclose(draws[0.1], expit(kappa / 0.1), atol=1e-4)


def test_gs_units_are_binary_concrete():
    model = DoubleLinearSOP("gs", 1, 1, hidden_units=1, temperature=0.5, seed=1)
    model.first.dense.kernel.assign([[0.0]])
    model.first.dense.bias.assign([0.8])
    psi = model.first(tf.zeros([200_000, 1]), (1, 1)).numpy().ravel().astype(np.float64)
    # P(psi > 1/2) = sigmoid(0.8); tau logit(psi) - 0.8 is standard logistic, whose
    # quartiles are -+log 3 (quartiles: robust to psi rounding to 0 or 1 in float32)
    assert np.mean(psi > 0.5) == pytest.approx(expit(0.8), abs=0.005)
    with np.errstate(divide="ignore"):
        noise = 0.5 * (np.log(psi) - np.log1p(-psi)) - 0.8
    np.testing.assert_allclose(
        np.quantile(noise, [0.25, 0.75]), [-math.log(3), math.log(3)], atol=0.02
    )


def test_split_halves_and_learning_rate():
    images = tf.reshape(tf.range(2 * 4 * 3, dtype=tf.float32), [2, 4, 3, 1])
    upper, lower = split_halves(images)
    np.testing.assert_array_equal(upper.numpy()[0], np.arange(6))
    np.testing.assert_array_equal(lower.numpy()[1], np.arange(18, 24))
    rates = [
        float(decayed_learning_rate(t, 1e-3, 1e-3, 1e-4))
        for t in (0, 1000, 8999, 20000)
    ]
    np.testing.assert_allclose(rates, [1e-3, 5e-4, 1e-3 / 9.999, 1e-4], rtol=1e-6)
