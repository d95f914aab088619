"""The discrete VAE: KL summed over variables, a true discrete bound, loss decreasing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from igr.experiments.vae import build_model
from igr.io import read_json
from igr.training import Trainer

SETTINGS = dict(  # noqa: C408
    dataset="digits", architecture="linear", family="igr_i", likelihood="bernoulli",
    temperature=0.5, num_variables=4, num_categories=10, planar_layers=2, threshold=0.9,
    quantile=0.75, seed=3,
)


def _images(n=8, shape=(8, 8, 1), seed=0):
    return (np.random.default_rng(seed).random((n, *shape)) > 0.5).astype(np.float32)


def test_kl_is_summed_over_variables_igr_i(prior_files):
    """IGR-I: the KL in the ELBO equals the hand-computed Gaussian KL summed over K-1 AND V."""
    prior = read_json(prior_files["igr_i"])
    model = build_model(SETTINGS, prior, (8, 8, 1))
    x = tf.constant(_images())
    params = model.encoder(x).numpy().reshape(8, 4, 18)
    mu_q, s_q = params[..., :9], np.log1p(np.exp(params[..., 9:]))
    mu_p, s_p = np.array(prior["loc"]), np.array(prior["scale"])
    per_coordinate = np.log(s_p / s_q) + (s_q**2 + (mu_q - mu_p) ** 2) / (2 * s_p**2) - 0.5
    expected = per_coordinate.sum(axis=(1, 2))  # over coordinates and the V = 4 variables
    kl = model.elbo_terms(x, tf.constant([1, 2]))["kl"].numpy()
    np.testing.assert_allclose(kl, expected, rtol=1e-4)
    # Averaging over variables (the reference's flaw) would be 4x smaller.
    assert np.all(kl > 2 * per_coordinate.sum(axis=2).mean(axis=1))


def test_kl_is_summed_over_variables_gs(prior_files):
    """GS: KL = sum_v [log q(y_v) - log p(y_v)] on the very draw that feeds the decoder."""
    settings = dict(SETTINGS, family="gs")
    model = build_model(settings, read_json(prior_files["gs"]), (8, 8, 1))
    x = tf.constant(_images())
    latent = model.latent
    q = latent.posterior(model.encoder(x))
    seed = tf.constant([4, 5])
    log_psi = q.sample_log(seed=seed)
    by_hand = (q.log_prob_log(log_psi) - latent.prior().log_prob_log(log_psi)).numpy()
    assert by_hand.shape == (8, 4)
    kl = model.elbo_terms(x, seed)["kl"].numpy()
    np.testing.assert_allclose(kl, by_hand.sum(axis=1), rtol=1e-5, atol=1e-5)


def _toy_model(family, prior_files):
    settings = dict(SETTINGS, family=family, num_variables=2, num_categories=3, seed=11)
    # K = 3 priors: GS zero logits; IGR-I with mu0 from the closed form.
    from igr.experiments.priors import learn_prior

    from igr.families import get_family

    prior_family = get_family(family).prior_family  # ST-GS and ReinMax read GS's prior
    prior = learn_prior(prior_family, 3, **({"scale": 1.0} if prior_family == "igr_i" else {}))
    model = build_model(settings, prior, (2, 2, 1))
    # Make the decoder sharp so that p(x|b) differs a lot between the 9 configurations.
    kernel = model.decoder.mlp.layers[0].kernel
    kernel.assign(4.0 * tf.random.stateless_normal(kernel.shape, seed=[7, 7]))
    return model


def _exact_log_likelihood(model, x):
    """log p(x) = log sum_b p(x|b) p(b), over all K^V = 9 one-hot configurations."""
    configurations = np.array([[i, j] for i in range(3) for j in range(3)])
    b = tf.one_hot(configurations, 3)  # [9, 2, 3]
    log_px_b = np.stack(
        [model.log_likelihood(x, tf.repeat(b[c : c + 1], x.shape[0], axis=0)).numpy() for c in range(9)]
    )
    return np.logaddexp.reduce(log_px_b, axis=0) - 2 * math.log(3)


@pytest.mark.parametrize("family", ["gs", "igr_i", "st_gs", "reinmax"])
def test_discrete_bound_is_a_lower_bound(family, prior_files):
    model = _toy_model(family, prior_files)
    x = tf.constant(_images(n=6, shape=(2, 2, 1), seed=2))
    exact = _exact_log_likelihood(model, x)
    small = np.mean(
        [model.discrete_bound(x, 2, 10, tf.constant([r, 0])).numpy() for r in range(200)], axis=0
    )
    large = model.discrete_bound(x, 20000, 10, tf.constant([9, 9])).numpy()
    # E[bound] <= log p(x): the S = 2 average stays below (3 sd of its Monte-Carlo mean).
    assert np.all(small <= exact + 0.02)
    # The gap is real for S = 2 (q differs from the posterior) ...
    assert np.mean(exact - small) > 0.01
    # ... and closes as S grows (consistency of the importance-sampling estimate).
    np.testing.assert_allclose(large, exact, atol=0.05)


@pytest.mark.parametrize(
    "family", ["gs", "igr_i", "igr_planar", "igr_sb", "igr_sb_trunc", "st_gs", "reinmax"]
)
def test_training_decreases_the_loss(family, prior_files, tmp_path):
    """A tiny run per family: mean train loss of the last epoch < that of the first."""
    from igr.data import InputPipeline, load_arrays

    data = load_arrays("digits")
    settings = dict(SETTINGS, family=family, architecture="nonlinear")
    prior_family = {"igr_sb_trunc": "igr_sb", "st_gs": "gs", "reinmax": "gs"}.get(family, family)
    model = build_model(settings, read_json(prior_files[prior_family]), data.x_train.shape[1:])
    optimizer = tf_keras.optimizers.Adam(1e-3)
    variables = model.trainable_variables

    def step(batch, seed):
        with tf.GradientTape() as tape:
            loss, metrics = model.loss(batch, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {"loss": loss, **metrics}

    trainer = Trainer(
        step, InputPipeline(data.x_train[:600], batch_size=50, seed=1),
        trackables={"model": model, "optimizer": optimizer}, output_dir=tmp_path,
        num_epochs=3, seed=1, tensorboard=False,
    )
    history = trainer.fit().history
    assert history[-1]["loss"] < 0.8 * history[0]["loss"]
    if family == "igr_sb_trunc":
        assert 2 <= history[-1]["categories_used"] <= 10


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1), (64, 64, 3)])
def test_conv_network_round_trips_image_shapes(shape, prior_files):
    model = build_model(dict(SETTINGS, architecture="conv"), read_json(prior_files["igr_i"]), shape)
    x = tf.constant(_images(n=2, shape=shape))
    assert model.encoder(x).shape == (2, model.latent.num_params)
    psi = tf.fill([2, 4, 10], 0.1)
    assert model.decoder(tf.reshape(psi, [2, 40])).shape == (2, *shape)
    assert model.log_likelihood(x, psi).shape == (2,)


def test_gaussian_likelihood_matches_scipy(prior_files):
    from scipy.stats import norm

    model = build_model(dict(SETTINGS, likelihood="gaussian"), read_json(prior_files["igr_i"]), (8, 8, 1))
    model.log_sigma.assign(tf.fill([8, 8, 1], -0.7))
    x = tf.constant(np.random.default_rng(5).random((3, 8, 8, 1)).astype(np.float32))
    psi = tf.one_hot(np.random.default_rng(6).integers(0, 10, (3, 4)), 10)
    means = model.decoder(tf.reshape(psi, [3, 40])).numpy()
    expected = norm.logpdf(x.numpy(), loc=means, scale=np.exp(-0.7)).reshape(3, -1).sum(axis=1)
    np.testing.assert_allclose(model.log_likelihood(x, psi).numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("family", ["gs", "igr_sb_trunc"])
def test_diagnostics_share_one_draw_with_the_elbo(family, prior_files):
    """Same seed: the KL per variable is the ELBO's KL / V, the relaxation gap is
    log p(x | psi) - log p(x | one_hot(argmax psi)) on that psi, and both are finite."""
    prior_key = "igr_sb" if family == "igr_sb_trunc" else family
    settings = dict(SETTINGS, family=family)
    model = build_model(settings, read_json(prior_files[prior_key]), (8, 8, 1))
    x = tf.constant(_images())
    seed = tf.constant([6, 7])
    values = model.diagnostics(x, seed)
    terms = model.elbo_terms(x, seed)
    np.testing.assert_allclose(values["kl_per_variable"], terms["kl"].numpy() / 4, rtol=1e-5)
    q = model.latent.posterior(model.encoder(x))
    psi, _, _ = model.latent.sample_and_kl(q, seed)
    one_hot = tf.one_hot(tf.argmax(psi, -1), 10)
    gap = model.log_likelihood(x, psi) - model.log_likelihood(x, one_hot)
    np.testing.assert_allclose(values["relaxation_gap"], gap, rtol=1e-5, atol=1e-4)
    assert values["vertex_distance"].shape == (8, 4)
    categories = float(values["categories_used"])
    assert (2 <= categories <= 10) if family == "igr_sb_trunc" else categories == 10


def test_kl_weight_ramps_linearly_to_one_and_is_one_without_warmup():
    from igr.models.vae import kl_weight

    weights = [float(kl_weight(tf.constant(t, tf.int64), 4)) for t in range(6)]
    assert weights == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert float(kl_weight(tf.constant(0, tf.int64), 0)) == 1.0


def test_loss_weights_only_the_kl(prior_files):
    model = build_model(SETTINGS, read_json(prior_files["igr_i"]), (8, 8, 1))
    x, seed = tf.constant(_images()), tf.constant([4, 5])
    terms = model.elbo_terms(x, seed)
    full, _ = model.loss(x, seed)
    half, metrics = model.loss(x, seed, kl_weight=0.5)
    np.testing.assert_allclose(float(full), -float(tf.reduce_mean(terms["elbo"])), rtol=1e-5)
    expected = -float(tf.reduce_mean(terms["reconstruction"] - 0.5 * terms["kl"]))
    np.testing.assert_allclose(float(half), expected, rtol=1e-5)
    assert float(metrics["kl"]) > 0 and float(half) < float(full)
