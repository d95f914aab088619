"""The baselines ST-GS and ReinMax as VAE families (issue 17): gradients reach the encoder,
the ELBO is the discrete ELBO at a one-hot code, the bound's q(b|x) is softmax(logits), and
``igr vae train`` / ``evaluate`` run them and say which KL they used."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from igr.experiments.priors import learn_prior
from igr.experiments.vae import build_model
from igr.io import read_json
from tests.vae.test_model import SETTINGS as MODEL_SETTINGS
from tests.vae.test_model import _images

BASELINES = ("st_gs", "reinmax")
SETTINGS = {**MODEL_SETTINGS, "family": "st_gs"}


def _model(family, prior_files, **changes):
    return build_model(dict(SETTINGS, family=family, **changes), read_json(prior_files["gs"]),
                       changes.get("shape", (8, 8, 1)))


@pytest.mark.parametrize("family", BASELINES)
def test_the_reconstruction_gradient_reaches_the_encoder(family, prior_files):
    """Through the straight-through value alone (KL left out): non-zero and finite."""
    model = _model(family, prior_files, architecture="nonlinear")
    x = tf.constant(_images())
    with tf.GradientTape() as tape:
        reconstruction = model.elbo_terms(x, tf.constant([1, 2]))["reconstruction"]
        loss = -tf.reduce_mean(reconstruction)
    gradients = tape.gradient(loss, model.encoder.trainable_variables)
    assert gradients and all(g is not None for g in gradients)
    assert all(np.all(np.isfinite(g.numpy())) for g in gradients)
    assert max(float(tf.reduce_max(tf.abs(g))) for g in gradients) > 1e-4


@pytest.mark.parametrize("family", BASELINES)
def test_kl_of_the_elbo_is_the_categorical_kl_summed_over_variables(family, prior_files):
    model = _model(family, prior_files)
    x = tf.constant(_images())
    logits = model.encoder(x).numpy().reshape(8, 4, 10).astype(np.float64)
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    expected = np.sum(q * (np.log(q) + math.log(10)), axis=(1, 2))
    terms = model.elbo_terms(x, tf.constant([5, 5]))
    np.testing.assert_allclose(terms["kl"], expected, rtol=1e-4)
    np.testing.assert_allclose(terms["elbo"], terms["reconstruction"] - terms["kl"], rtol=1e-6)


@pytest.mark.parametrize("family", BASELINES)
def test_bound_uses_softmax_of_the_logits_as_q(family, prior_files):
    """S = 1 by hand: log p(x|b) + log K^-V - sum_v log softmax(logits_v)[b_v], with the b
    the bound draws; and the S = 50 bound is finite and <= 0 (Bernoulli pixels)."""
    model = _model(family, prior_files)
    x, seed = tf.constant(_images()), tf.constant([3, 1])
    bound = model.discrete_bound(x, 1, 10, seed).numpy()
    draw_seed, _ = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    q = model.latent.posterior(model.encoder(x))
    categories = q.sample_argmax(1, seed=draw_seed)[0].numpy()  # [B, V]
    log_q = tf.math.log_softmax(q.logits).numpy()
    picked = np.take_along_axis(log_q, categories[..., None], axis=-1)[..., 0].sum(-1)
    log_px_b = model.log_likelihood(x, tf.one_hot(categories, 10)).numpy()
    np.testing.assert_allclose(bound, log_px_b - 4 * math.log(10) - picked, rtol=1e-5)
    larger = model.discrete_bound(x, 50, 10, seed).numpy()
    assert np.all(np.isfinite(larger)) and np.all(larger <= 0)


@pytest.mark.parametrize("family", BASELINES)
def test_the_elbo_is_the_discrete_elbo_of_the_bounded_model(family):
    """Its mean over draws is sum_b q(b) log p(x|b) - KL(q || uniform), by enumeration of
    the K^V = 9 codes of a V = 2, K = 3 model: the S = 1 bound's expectation."""
    settings = dict(SETTINGS, family=family, num_variables=2, num_categories=3, seed=11)
    model = build_model(settings, learn_prior("gs", 3), (2, 2, 1))
    kernel = model.decoder.mlp.layers[0].kernel
    kernel.assign(4.0 * tf.random.stateless_normal(kernel.shape, seed=[7, 7]))
    x = tf.constant(_images(n=1, shape=(2, 2, 1), seed=2))
    q = tf.nn.softmax(model.latent.posterior(model.encoder(x)).logits).numpy()[0]  # [V, K]
    codes = [(i, j) for i in range(3) for j in range(3)]
    log_px_b = np.array([
        float(model.log_likelihood(x, tf.one_hot([code], 3))[0]) for code in codes
    ])
    q_b = np.array([q[0, i] * q[1, j] for i, j in codes])
    exact = float(q_b @ log_px_b - np.sum(q * np.log(3 * q)))
    draws = model.elbo_terms(tf.repeat(x, 20_000, axis=0), tf.constant([4, 4]))["elbo"].numpy()
    error = draws.std() / math.sqrt(draws.size)
    assert abs(draws.mean() - exact) < 5 * error


@pytest.mark.parametrize("family", BASELINES)
def test_diagnostics_are_zero_gap_and_distance_and_a_finite_jacobian(family, prior_files):
    model = _model(family, prior_files)
    x, seed = tf.constant(_images()), tf.constant([6, 7])
    values = model.diagnostics(x, seed)
    assert np.all(values["relaxation_gap"].numpy() == 0.0)
    assert np.all(values["vertex_distance"].numpy() == 0.0)
    np.testing.assert_allclose(
        values["kl_per_variable"], model.elbo_terms(x, seed)["kl"].numpy() / 4, rtol=1e-6
    )
    norms = tf.function(model.psi_jacobian_norms)(x, seed).numpy()  # as evaluate runs it
    assert np.all(np.isfinite(norms)) and np.all(norms > 0)


def test_a_calibrated_temperature_is_the_gs_one(prior_files):
    """The baselines read GS's prior file and draw GS's noise, so their tau* is GS's."""
    from igr.experiments.temperatures import calibrate_temperature

    prior = read_json(prior_files["gs"])
    taus = {family: calibrate_temperature(family, prior, 0.75, 0.2, 2000, 2020)["temperature"]
            for family in ("gs", *BASELINES)}
    assert taus["st_gs"] == taus["reinmax"] == taus["gs"]


# ------------------------------------------------------------------ the commands


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _igr(*arguments):
    return subprocess.run([sys.executable, "-m", "igr", *arguments], env=_env(),
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize(("family", "temperature"), [("st_gs", "0.5"), ("reinmax", "1.0")])
def test_train_and_evaluate_on_codes_write_records_naming_the_kl(
    family, temperature, prior_files, tmp_path
):
    trained = _igr(
        "vae", "train", "--dataset", "codes", "--architecture", "nonlinear", "--family", family,
        "--prior", str(prior_files["gs"]), "--temperature", temperature, "--epochs", "1",
        "--batch-size", "100", "--seed", "7", "--threads", "1", "--eval-examples", "200",
        "--num-variables", "8", "--kl-warmup-steps", "50", "--run-dir", str(tmp_path / "run"),
        "--history", str(tmp_path / "history.csv"), "--output", str(tmp_path / "train.json"),
    )
    assert trained.returncode == 0, trained.stderr
    record = json.loads((tmp_path / "train.json").read_text())
    objective = record["objective"]
    assert (objective["forward"], objective["kl"]) == (family, "categorical")
    assert objective["kl_description"] == "categorical KL to the uniform prior (exact)"
    assert np.isfinite(record["final"]["loss"]) and record["final"]["kl"] > 0
    evaluated = _igr(
        "vae", "evaluate", str(tmp_path / "train.json"), "--num-importance-samples", "20",
        "--eval-examples", "200", "--threads", "1", "--output", str(tmp_path / "evaluation.json"),
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert "(categorical KL)" in evaluated.stdout
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert evaluation["objective"] == objective
    assert evaluation["discrete_bound_q"] == "exact"
    assert evaluation["relaxation_gap"] == 0.0 and evaluation["vertex_distance_median"] == 0.0
    assert evaluation["kl_per_variable"] > 0
    bound, elbo = evaluation["discrete_bound"], evaluation["test_elbo"]
    assert math.isfinite(bound) and bound <= 0 and math.isfinite(elbo)
    # The ELBO (= the S = 1 bound in expectation) lies below the S = 20 bound, up to noise.
    assert elbo <= bound + 3 * evaluation["discrete_bound_sd"] / math.sqrt(200)
    assert 0.0 <= evaluation["vanished_gradient_share"] < 1.0


def test_a_non_uniform_prior_is_refused_before_any_work(prior_files, tmp_path):
    record = json.loads(prior_files["gs"].read_text())
    record["logits"] = [0.5] + record["logits"][1:]
    prior = tmp_path / "input-prior.json"
    prior.write_text(json.dumps(record))
    result = _igr(
        "vae", "train", "--dataset", "codes", "--architecture", "nonlinear", "--family",
        "reinmax", "--prior", str(prior), "--temperature", "1.0", "--epochs", "1", "--seed",
        "7", "--run-dir", str(tmp_path / "run"), "--output", str(tmp_path / "train.json"),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "reinmax takes the categorical KL to a uniform prior" in result.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "train.json").exists()
