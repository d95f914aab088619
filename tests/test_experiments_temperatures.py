"""Stage "temperatures": calibrated temperatures against closed forms, monotone fractions."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import norm

from igr.experiments.priors import learn_prior
from igr.experiments.temperatures import calibrate_temperature, fraction_near_vertex
from igr.io import write_json_atomic

# K = 2: psi_1 = sigmoid(x / tau) with x logistic (GS, zero logits) or N(0, 1) (IGR-I,
# sigma0 = 1, mu0 = 0), and ||psi - e|| = sqrt(2) sigmoid(-|x| / tau). The share within d
# is P(|x| >= tau c), c = log((1 - a) / a), a = d / sqrt(2); it equals f at
# tau = F^-1(1 - f / 2) / c for F the cdf of x.
A = 0.2 / math.sqrt(2)
C = math.log((1 - A) / A)
EXACT = {"gs": math.log(0.625 / 0.375) / C, "igr_i": norm.ppf(0.625) / C}


@pytest.mark.parametrize("family", ["gs", "igr_i"])
def test_calibration_matches_the_closed_form_at_k2(family):
    prior = learn_prior(family, 2, **({"scale": 1.0} if family == "igr_i" else {}))
    record = calibrate_temperature(family, prior, 0.75, 0.2, 1_000_000, seed=2)
    assert record["temperature"] == pytest.approx(EXACT[family], abs=1e-3)
    assert record["fraction_reached"] >= 0.75


def test_igr_planar_is_calibrated_exactly_as_igr_i():
    """Its prior is IGR-I's (spec 1.4): same law, same draws, same tau*."""
    planar = calibrate_temperature("igr_planar", learn_prior("igr_planar", 10, scale=1.0),
                                   0.75, 0.2, 2000, seed=4)
    igr_i = calibrate_temperature("igr_i", learn_prior("igr_i", 10, scale=1.0), 0.75, 0.2, 2000, seed=4)
    assert planar["temperature"] == igr_i["temperature"]


def test_share_near_a_vertex_falls_as_the_temperature_rises():
    prior = learn_prior("igr_i", 10, scale=1.0)
    shares = [fraction_near_vertex("igr_i", prior, tau, 0.2, 2000, (1, 1))
              for tau in (0.01, 0.03, 0.1, 0.3, 1.0)]
    assert all(a >= b for a, b in zip(shares, shares[1:]))
    assert shares[0] > 0.95 and shares[-1] < 0.2


def test_igr_sb_is_calibrated_far_colder_than_gs():
    """Its pieces lie in [0, 1], so its logits span only 1 / tau (issue 14)."""
    gs = calibrate_temperature("gs", learn_prior("gs", 10), 0.75, 0.2, 5000, seed=1)
    sb_prior = learn_prior("igr_sb", 10, fit_temperature=0.01, num_steps=20, samples_per_step=200,
                           learning_rate=0.05, eval_samples=1000, seed=1)
    sb = calibrate_temperature("igr_sb", sb_prior, 0.75, 0.2, 5000, seed=1)
    assert sb["temperature"] < gs["temperature"] / 4


def _igr(*args):
    return subprocess.run([sys.executable, "-m", "igr", *map(str, args)], capture_output=True, text=True)


def test_command_writes_a_record_that_vae_train_reads_and_checks(tmp_path):
    prior = tmp_path / "igr_i_K3.json"
    write_json_atomic(prior, learn_prior("igr_i", 3, scale=1.0))
    output = tmp_path / "igr_i_K3_tau.json"
    result = _igr("calibrate-temperature", "--family", "igr_i", "--num-categories", 3,
                  "--prior", prior, "--num-samples", 2000, "--output", output)
    assert result.returncode == 0, result.stderr
    record = json.loads(output.read_text())
    assert record["family"] == "igr_i" and record["num_categories"] == 3
    assert 0 < record["temperature"] < 1 and record["prior_file"] == str(prior)
    # A calibration of another K is refused before any work, naming the file.
    refused = _igr("vae", "train", "--dataset", "digits", "--architecture", "linear",
                   "--family", "igr_i", "--prior", prior, "--temperature-file", output,
                   "--num-categories", 10, "--epochs", 1, "--seed", 1,
                   "--run-dir", tmp_path / "run", "--output", tmp_path / "train.json")
    assert refused.returncode == 2
    assert f"--temperature-file {output}: calibrates igr_i with K = 3" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "run").exists()
