"""The VAE latent of the baselines ST-GS and ReinMax (issue 17): one-hot forward values, the
estimators' gradients, the exact categorical KL to the uniform prior."""

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions import categorical_kl
from igr.distributions.estimators import categorical_sample
from igr.experiments.priors import learn_prior
from igr.models.latent import Latent

K, V, B = 4, 3, 6
BASELINES = ("st_gs", "reinmax")


@pytest.fixture(scope="module")
def gs_prior():
    return learn_prior("gs", K)


def _latent(family, prior, temperature=0.7):
    return Latent(family, V, K, temperature, prior)


def _outputs(seed=0, scale=2.0, batch=B):
    rng = np.random.default_rng(seed)
    return tf.Variable(scale * rng.normal(size=(batch, V * K)).astype(np.float32))


def _jacobian(p):
    """J(p) = diag(p) - p p^T, the softmax Jacobian, over the last axis."""
    return np.einsum("...i,ij->...ij", p, np.eye(p.shape[-1])) - p[..., :, None] * p[..., None, :]


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "graph"])
@pytest.mark.parametrize("family", BASELINES)
def test_forward_value_is_exactly_one_hot(family, compiled, gs_prior):
    latent = _latent(family, gs_prior)
    outputs = _outputs(batch=500)  # 1,500 variables: no rounding error slips through

    def draw(seed):
        psi, kl, extras = latent.sample_and_kl(latent.posterior(outputs), seed)
        return psi, kl

    psi, kl = (tf.function(draw) if compiled else draw)(tf.constant([3, 4]))
    values = psi.numpy()
    assert values.shape == (500, V, K) and kl.shape == (500, V)
    assert set(np.unique(values)) == {0.0, 1.0}
    assert np.all(values.sum(-1) == 1.0)


def test_st_gs_feeds_the_argmax_of_the_gs_draw_and_reinmax_an_exact_categorical_draw(gs_prior):
    outputs, seed = _outputs(), tf.constant([5, 6])
    st = _latent("st_gs", gs_prior)
    q = st.posterior(outputs)
    hard, _, _ = st.sample_and_kl(q, seed)
    relaxed = q.sample(seed=seed)  # the same GS draw underneath
    np.testing.assert_array_equal(hard, tf.one_hot(tf.argmax(relaxed, -1), K))
    reinmax = _latent("reinmax", gs_prior)
    q = reinmax.posterior(outputs)
    drawn, _, _ = reinmax.sample_and_kl(q, seed)
    np.testing.assert_array_equal(drawn, categorical_sample(q.logits, seed))


def test_reinmax_draws_have_the_categorical_law(gs_prior):
    latent = _latent("reinmax", gs_prior)
    one = _outputs(seed=2, batch=1)
    q = latent.posterior(tf.tile(one, [20_000, 1]))
    frequencies = latent.sample_and_kl(q, tf.constant([1, 9]))[0].numpy().mean(0)  # [V, K]
    p = _softmax(one.numpy().reshape(V, K))
    assert np.all(np.abs(frequencies - p) < 4 * np.sqrt(p * (1 - p) / 20_000) + 1e-3)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_reinmax_latent_gradient_is_two_jacobians_at_pi1_minus_half_at_pi0(temperature, gs_prior):
    """d/d logits of sum(g * psi) = (2 J(pi1) - J(pi0) / 2)^T g, pi0 = softmax(logits),
    pi1 = (D + softmax(logits / tau)) / 2, per example and variable (Liu et al. 2023)."""
    latent = _latent("reinmax", gs_prior, temperature)
    outputs = _outputs(seed=4)
    upstream = np.random.default_rng(7).normal(size=(B, V, K)).astype(np.float32)
    with tf.GradientTape() as tape:
        psi, _, _ = latent.sample_and_kl(latent.posterior(outputs), tf.constant([2, 2]))
        total = tf.reduce_sum(psi * upstream)
    gradient = tape.gradient(total, outputs).numpy().reshape(B, V, K)
    logits = outputs.numpy().reshape(B, V, K).astype(np.float64)
    d = psi.numpy().astype(np.float64)
    pi0, pi1 = _softmax(logits), 0.5 * (d + _softmax(logits / temperature))
    matrix = 2 * _jacobian(pi1) - 0.5 * _jacobian(pi0)
    expected = np.einsum("bvij,bvi->bvj", matrix, upstream)  # matrix^T g
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


def test_st_gs_latent_gradient_is_the_gs_jacobian(gs_prior):
    """ST-GS: d/d logits of sum(g * one_hot) = (d psi / d logits)^T g = J(psi) g / tau."""
    tau = 0.7
    latent = _latent("st_gs", gs_prior, tau)
    outputs, seed = _outputs(seed=5), tf.constant([8, 1])
    upstream = np.random.default_rng(8).normal(size=(B, V, K)).astype(np.float32)
    with tf.GradientTape() as tape:
        q = latent.posterior(outputs)
        hard, _, _ = latent.sample_and_kl(q, seed)
        total = tf.reduce_sum(hard * upstream)
    gradient = tape.gradient(total, outputs).numpy().reshape(B, V, K)
    psi = q.sample(seed=seed).numpy().astype(np.float64)
    expected = np.einsum("bvij,bvj->bvi", _jacobian(psi), upstream) / tau
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("family", BASELINES)
def test_gradient_reaches_the_logits_finite_and_non_zero(family, gs_prior):
    latent = _latent(family, gs_prior)
    outputs = _outputs(seed=6)
    with tf.GradientTape() as tape:
        psi, kl, _ = latent.sample_and_kl(latent.posterior(outputs), tf.constant([4, 4]))
        loss = tf.reduce_sum(psi * tf.range(K, dtype=tf.float32)) + tf.reduce_sum(kl)
    gradient = tape.gradient(loss, outputs).numpy()
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 1e-3


@pytest.mark.parametrize("family", BASELINES)
def test_kl_is_the_analytic_categorical_kl_to_uniform(family, gs_prior):
    latent = _latent(family, gs_prior)
    outputs = _outputs(seed=3)
    q = latent.posterior(outputs)
    _, kl, extras = latent.sample_and_kl(q, tf.constant([1, 1]))
    _, again, _ = latent.sample_and_kl(q, tf.constant([2, 3]))
    probs = _softmax(outputs.numpy().reshape(B, V, K).astype(np.float64))
    expected = np.sum(probs * (np.log(probs) + np.log(K)), axis=-1)  # log p_k = -log K
    np.testing.assert_allclose(kl, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(kl, again)  # analytic: no draw enters it
    assert extras == {}
    uniform = latent.posterior(tf.fill([B, V * K], 3.7))  # equal logits: q is uniform
    _, zero, _ = latent.sample_and_kl(uniform, tf.constant([1, 1]))
    np.testing.assert_allclose(zero, np.zeros((B, V)), atol=1e-6)


def test_categorical_kl_is_safe_where_a_probability_underflows():
    logits_q = tf.constant([[200.0, 0.0, -200.0]])
    value = categorical_kl(logits_q, tf.zeros([1, 3]))
    np.testing.assert_allclose(value, [np.log(3.0)], rtol=1e-6)
    skewed = tf.constant([0.3, -1.2, 2.0])
    reference = tf.constant([1.0, 0.0, -0.5])
    q, p = _softmax(skewed.numpy()), _softmax(reference.numpy())
    np.testing.assert_allclose(categorical_kl(skewed, reference), np.sum(q * np.log(q / p)),
                               rtol=1e-5)


def test_argmax_law_is_softmax_of_the_logits(gs_prior):
    for family in BASELINES:
        latent = _latent(family, gs_prior)
        outputs = _outputs(seed=1)
        q = latent.posterior(outputs)
        probs = latent.argmax_probs(q, num_samples=10, seed=tf.constant([0, 0]))
        np.testing.assert_allclose(probs, _softmax(outputs.numpy().reshape(B, V, K)), rtol=1e-5)


def test_a_non_uniform_prior_file_is_refused(gs_prior):
    skewed = dict(gs_prior, logits=[0.0, 0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="categorical KL to a uniform prior"):
        _latent("reinmax", skewed)
