"""The SOP units of the baselines ST-GS and ReinMax (issue 17): 0/1 values forward in
training, the estimators' gradients, the exact hard test loss, a short ``igr sop train`` run,
and the claim that leaves them out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import expit

from igr.distributions.estimators import categorical_sample
from igr.models.sop import DoubleLinearSOP
from igr.reporting.sop import claim_check, sop_table_rows, summarize_sop
from tests.sop.test_sop_training import _evaluation

BASELINES = ("st_gs", "reinmax")
IN, UNITS, OUT, B = 6, 40, 5, 50


def _model(family, temperature=0.7, seed=3):
    return DoubleLinearSOP(family, IN, OUT, hidden_units=UNITS, temperature=temperature, seed=seed)


def _inputs(batch=B, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.integers(0, 2, size=(batch, IN)), tf.float32)


def _scale_first_layer(model, factor=4.0):
    """Larger weights: unit logits of a few nats, so both values of the units occur."""
    model.first.dense.kernel.assign(factor * model.first.dense.kernel)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "graph"])
@pytest.mark.parametrize("family", BASELINES)
def test_training_values_are_exactly_zero_or_one(family, compiled):
    model = _model(family)
    _scale_first_layer(model)
    x = _inputs(batch=300)  # 12,000 units: no rounding error slips through

    def forward(seed):
        first_seed, second_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        z1 = model.first(x, first_seed)
        z2 = model.second(2.0 * z1 - 1.0, second_seed)
        return z1, z2, model.first(x, first_seed, hard=True)

    z1, z2, hard = (tf.function(forward) if compiled else forward)(tf.constant([4, 5]))
    for z in (z1, z2):
        assert z.shape == (300, UNITS)
        assert set(np.unique(z.numpy())) == {0.0, 1.0}
        assert set(np.unique(2.0 * z.numpy() - 1.0)) == {-1.0, 1.0}
    np.testing.assert_array_equal(hard, z1)  # the hard unit is the training value
    assert model.output_logits(x, (1, 2)).shape == (300, OUT)


def test_st_gs_feeds_the_argmax_of_the_gs_draw_and_reinmax_an_exact_bernoulli_draw():
    x, seed = _inputs(), tf.constant([6, 7])
    st = _model("st_gs")
    psi = st.first.distribution(x).sample(seed=seed)  # the same GS draw underneath
    np.testing.assert_array_equal(st.first(x, seed), (psi[..., 0] >= psi[..., 1]).numpy())
    reinmax = _model("reinmax")
    logits = reinmax.first.distribution(x).logits
    np.testing.assert_array_equal(reinmax.first(x, seed), categorical_sample(logits, seed)[..., 0])


@pytest.mark.parametrize("family", BASELINES)
def test_a_unit_is_on_with_probability_sigmoid_of_its_logit(family):
    model = DoubleLinearSOP(family, 1, 1, hidden_units=3, temperature=0.5, seed=1)
    model.first.dense.kernel.assign(tf.zeros([1, 3]))
    model.first.dense.bias.assign([0.8, -1.5, 0.0])
    on = model.first(tf.zeros([100_000, 1]), (2, 3)).numpy().mean(0)
    p = expit(np.array([0.8, -1.5, 0.0]))
    assert np.all(np.abs(on - p) < 4 * np.sqrt(p * (1 - p) / 100_000))


@pytest.mark.parametrize("family", BASELINES)
def test_gradient_reaches_the_first_dense_layer(family):
    model = _model(family)
    x = _inputs()
    x_low = tf.constant(np.random.default_rng(1).integers(0, 2, size=(B, OUT)), tf.float32)
    with tf.GradientTape() as tape:
        loss = model.loss(x, x_low, (8, 9))
    kernel, bias = tape.gradient(loss, [model.first.dense.kernel, model.first.dense.bias])
    for gradient in (kernel.numpy(), bias.numpy()):
        assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 1e-4


def _unit_gradient(family, temperature):
    """(d/d kernel of sum(g * z) for the first layer, h, logits l, z, g, the GS draw psi)."""
    model = _model(family, temperature)
    _scale_first_layer(model, 2.0)
    x, seed = _inputs(seed=2), tf.constant([3, 1])
    upstream = np.random.default_rng(5).normal(size=(B, UNITS)).astype(np.float32)
    with tf.GradientTape() as tape:
        z = model.first(x, seed)
        total = tf.reduce_sum(z * upstream)
    gradient = tape.gradient(total, model.first.dense.kernel).numpy().astype(np.float64)
    h = x.numpy().astype(np.float64)
    logits = h @ model.first.dense.kernel.numpy() + model.first.dense.bias.numpy()
    psi = model.first.distribution(x).sample(seed=seed)[..., 0].numpy().astype(np.float64)
    return gradient, h, logits, z.numpy().astype(np.float64), upstream, psi


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_reinmax_unit_gradient_is_the_k2_formula(temperature):
    """K = 2 with logits (l, 0): (2 J(pi1) - J(pi0) / 2)^T (g, 0) in l is
    g (2 a (1 - a) - s (1 - s) / 2), s = sigmoid(l), a = (z + sigmoid(l / tau)) / 2."""
    gradient, h, logits, z, upstream, _ = _unit_gradient("reinmax", temperature)
    assert set(np.unique(z)) == {0.0, 1.0}
    s, a = expit(logits), 0.5 * (z + expit(logits / temperature))
    d_logit = upstream * (2 * a * (1 - a) - 0.5 * s * (1 - s))
    np.testing.assert_allclose(gradient, h.T @ d_logit, rtol=1e-4, atol=1e-6)


def test_st_gs_unit_gradient_is_that_of_the_binary_concrete_draw():
    """dz/dl = d psi / dl = psi (1 - psi) / tau, psi = sigmoid((l + L) / tau)."""
    tau = 0.7
    gradient, h, _, z, upstream, psi = _unit_gradient("st_gs", tau)
    np.testing.assert_array_equal(z, (psi >= 0.5).astype(np.float64))
    d_logit = upstream * psi * (1 - psi) / tau
    np.testing.assert_allclose(gradient, h.T @ d_logit, rtol=1e-4, atol=1e-6)


def _train_command(folder, family, *temperature):
    return [
        sys.executable, "-m", "igr", "sop", "train", "--family", family, "--dataset", "digits",
        "--hidden-units", "16", *temperature, "--epochs", "2", "--batch-size", "50",
        "--seed", "7", "--checkpoint-every", "1", "--threads", "1",
        "--run-dir", str(folder / "run"), "--output", str(folder / "train.json"),
        "--evaluation-output", str(folder / "evaluation.json"), "--num-samples", "50",
        "--eval-batch-size", "100", "--eval-examples", "100", "--num-predictions", "2",
    ]


def test_igr_sop_train_runs_both_baselines_on_digits(tmp_path):
    """ST-GS with a calibrated temperature (GS's prior at K = 2, as the pipeline's
    calibrate_temperature job writes it), ReinMax with tau = 1."""
    from igr.experiments.priors import learn_prior
    from igr.experiments.temperatures import calibrate_temperature

    calibration = calibrate_temperature("st_gs", learn_prior("gs", 2), 0.75, 0.2, 2_000, 1)
    calibration_file = tmp_path / "st_gs_K2.json"
    calibration_file.write_text(json.dumps(calibration))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    runs = {
        "st_gs": ("--temperature-file", str(calibration_file)),
        "reinmax": ("--temperature", "1.0"),
    }
    for family, temperature in runs.items():
        folder = tmp_path / family
        done = subprocess.run(
            _train_command(folder, family, *temperature),
            check=False, env=env, capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        record = json.loads((folder / "train.json").read_text())
        evaluation = json.loads((folder / "evaluation.json").read_text())
        assert record["settings"]["family"] == evaluation["settings"]["family"] == family
        assert len(record["history"]) == 2
        assert np.isfinite(evaluation["test_loss"]) and 0 < evaluation["test_loss"] < 32 * np.log(2)
        assert np.isfinite(evaluation["test_loss_relaxed_one_sample"])
        assert np.asarray(evaluation["predicted_lower"]).shape == (2, 32)
    st_gs = json.loads((tmp_path / "st_gs" / "evaluation.json").read_text())
    assert st_gs["temperature_source"]["kind"] == "calibrated"
    assert st_gs["settings"]["temperature"] == pytest.approx(calibration["temperature"])
    reinmax = json.loads((tmp_path / "reinmax" / "evaluation.json").read_text())
    assert reinmax["temperature_source"]["kind"] == "given"
    assert reinmax["settings"]["temperature"] == 1.0


def test_the_claim_leaves_the_baselines_out(tmp_path):
    """Baselines in the table and figure, better than every family here: the verdict on IGR
    against GS and its numbers stay as they are without them; the reason says so."""
    compared = [
        _evaluation("gs", 1, 12.0), _evaluation("gs", 2, 12.4),
        _evaluation("igr_i", 1, 10.1), _evaluation("igr_i", 2, 10.5),
        _evaluation("igr_sb", 1, 12.3), _evaluation("igr_sb", 2, 12.1),
    ]
    baselines = [
        _evaluation("reinmax", 1, 8.0), _evaluation("reinmax", 2, 8.2),
        _evaluation("st_gs", 1, 14.0),  # one seed: would make the claim inconclusive
    ]
    without = claim_check(sop_table_rows(compared))
    rows = sop_table_rows(compared + baselines)
    assert [row["family"] for row in rows] == ["gs", "igr_i", "igr_sb", "st_gs", "reinmax"]
    assert [row["best"] for row in rows] == [False, False, False, False, True]
    verdict = claim_check(rows)
    assert verdict["verdict"] == without["verdict"] == "supported"
    assert verdict["scale"] == without["scale"]
    assert verdict["reason"].startswith(without["reason"])
    assert verdict["reason"].endswith(
        "; the baselines ST-GS, ReinMax (0/1 values forward) are in the table but take no "
        "part in this claim"
    )
    assert "ReinMax 8.000" not in verdict["reason"]  # not compared with GS
    alone = claim_check([row for row in rows if row["family"] in ("gs", "reinmax")])
    assert alone["verdict"] == "not assessable"
    assert "needs GS and an IGR family" in alone["reason"] and "ReinMax" in alone["reason"]

    paths = []
    for index, record in enumerate(compared + baselines):
        path = tmp_path / f"e{index}.json"
        path.write_text(json.dumps(record))
        paths.append(str(path))
    table, figure, claim = tmp_path / "t.csv", tmp_path / "f.png", tmp_path / "c.csv"
    summarize_sop(paths, table, figure, claim)
    import pandas as pd

    assert pd.read_csv(table)["family"].tolist() == ["gs", "igr_i", "igr_sb", "st_gs", "reinmax"]
    assert pd.read_csv(claim)["verdict"].item() == "supported"
    assert figure.stat().st_size > 5_000
