"""Stage "approximations" (spec section 3): targets, lumping, metrics, fits, claim, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import tensorflow as tf
import pytest
from scipy import stats

from igr.experiments import approximations as approx
from igr.reporting.approximations import claim_check

#: Fit settings of the small-target tests: enough to converge in a few seconds.
SMALL_FIT = {
    "num_steps": 150,
    "samples_per_step": 2000,
    "learning_rate": 0.05,
    "eval_samples": 10000,
    "seed": 7,
}
#: A small target over 0..5 and the total variation each family must reach on it.
SMALL_TARGET = ("fixed_pmf", {"weights": [4.0, 1.0, 3.0, 0.5, 2.0, 1.5]})
SMALL_TARGET_MAX_TV = 0.06


def test_targets_use_the_reference_parametrisations():
    nb = approx.target_distribution(
        "negative_binomial", {"total_count": 50, "probs": 0.6}
    )
    assert nb.mean() == pytest.approx(50 * 0.4 / 0.6)  # failures before 50 successes
    poisson = approx.target_distribution("poisson", {"rate": 50})
    assert poisson.sf(39) == pytest.approx(0.935, abs=5e-4)
    fixed = approx.target_distribution(
        "fixed_pmf", {"weights": [10, 1, 5, 1, 10, 10, 1, 6, 1, 1]}
    )
    np.testing.assert_allclose(
        fixed.pmf(np.arange(12)),
        [10, 1, 5, 1, 10, 10, 1, 6, 1, 1, 0, 0] / np.float64(46),
    )
    with pytest.raises(ValueError, match="takes parameters"):
        approx.target_distribution("binomial", {"total_count": 12})


def test_lumped_target_puts_the_tail_into_the_last_used_category():
    distribution = approx.target_distribution("poisson", {"rate": 3.0})
    pmf, tail = approx.target_pmf_and_tail(distribution, 8)
    lumped = approx.lumped_target(pmf, tail, 4).numpy()
    np.testing.assert_allclose(lumped[:3], stats.poisson(3.0).pmf([0, 1, 2]))
    assert lumped[3] == pytest.approx(stats.poisson(3.0).sf(2))  # P(X >= 3)
    np.testing.assert_array_equal(lumped[4:], 0.0)
    assert lumped.sum() == pytest.approx(1.0)


def test_kl_to_relaxed_mean_skips_zero_target_mass():
    target = np.array([0.5, 0.5, 0.0])
    mean = np.array([0.25, 0.25, 0.5])
    expected = 0.5 * math.log(0.5 / 0.25) * 2
    assert float(approx.kl_target_to_relaxed_mean(target, np.log(mean))) == pytest.approx(
        expected
    )


def test_log_relaxed_mean_is_finite_where_psi_underflows():
    log_psi = tf.constant([[0.0, -200.0, -float("inf")], [0.0, -300.0, -float("inf")]])
    with tf.GradientTape() as tape:
        tape.watch(log_psi)
        log_mean = approx.log_relaxed_mean(log_psi)
        loss = tf.reduce_sum(log_mean[:2])
    np.testing.assert_allclose(log_mean[:2], [0.0, -200.0 - math.log(2.0)], rtol=1e-6)
    assert np.all(np.isfinite(tape.gradient(loss, log_psi).numpy()))


@pytest.mark.parametrize("family", ["gs", "igr_sb"])
def test_a_fit_at_temperature_0_001_stays_finite(family):
    """The loss used log(mean psi): at tau = 0.001 a category no sample reached made it
    infinite and the GS logits NaN (Poisson(50), K = 100, 100 samples per step)."""
    distribution = approx.target_distribution("poisson", {"rate": 50.0})
    if family == "gs":
        record = approx.fit_gs(distribution, 100, 0.001, 5, 100, 0.05, 500, 1)
        values = record["parameters"]["logits"]
    else:
        record = approx.fit_truncated_igr_sb(distribution, 100, 0.001, 0.9, 0.75, 5, 100, 0.05, 500, 1)
        values = record["parameters"]["loc"] + record["parameters"]["scale"]
    assert math.isfinite(record["final_loss"]) and np.all(np.isfinite(values))


def test_histogram_metrics_match_a_hand_computation():
    distribution = approx.target_distribution("fixed_pmf", {"weights": [1, 1, 1, 1]})
    samples = np.array([0, 0, 1, 2])  # h = [1/2, 1/4, 1/4]; target 1/4 each over 0..3
    metrics = approx.histogram_metrics(samples, 3, distribution)
    # |1/2-1/4| + 0 + 0 over the histogram, + P(X >= 3) = 1/4 beyond it
    assert metrics["total_variation"] == pytest.approx(0.5 * (0.25 + 0.25))
    # Lumped at m = 3: the last category stands for X >= 2 (target 1/2), h = [1/2, 1/4, 1/4].
    assert metrics["total_variation_lumped"] == pytest.approx(0.5 * (0.25 + 0.25))
    assert metrics["kl_histogram_to_lumped_target"] == pytest.approx(
        0.5 * math.log(2.0) + 0.25 * math.log(0.5)
    )
    assert metrics["target_tail_mass"] == pytest.approx(0.5)
    assert metrics["last_category_share"] == pytest.approx(0.25)
    assert metrics["mean"] == pytest.approx(0.75)
    assert metrics["variance"] == pytest.approx(np.var(samples))
    assert metrics["target_mean"] == pytest.approx(1.5)
    # A sample where the target is 0 is reported as such, the KL stays finite.
    outside = approx.histogram_metrics(np.array([0, 5]), 6, distribution)
    assert outside["mass_outside_target_support"] == pytest.approx(0.5)
    assert math.isfinite(outside["kl_histogram_to_lumped_target"])


def test_each_family_fits_a_small_target_within_the_stated_tv():
    distribution = approx.target_distribution(*SMALL_TARGET)
    gs = approx.fit_gs(distribution, 8, 0.1, **SMALL_FIT)
    sb = approx.fit_truncated_igr_sb(distribution, 30, 0.01, 0.9, 0.75, **SMALL_FIT)
    for fit in (gs, sb):
        assert fit["total_variation"] < SMALL_TARGET_MAX_TV, fit["family"]
        assert fit["final_loss"] < fit["initial_loss"]
    # the truncation shrinks from its uniform start to about the target's support
    assert sb["categories_used_during_fit"]["first"] > 20
    assert 6 <= sb["categories_used"] <= 12
    assert sb["cap_hit"] is False


@pytest.fixture(scope="module")
def poisson50():
    return approx.approximate(
        "poisson",
        {"rate": 50},
        gs_num_categories=[20],
        gs_temperature=0.1,
        igr_sb_max_categories=200,
        igr_sb_temperature=0.01,
        igr_sb_threshold=0.9,
        igr_sb_quantile=0.75,
        num_steps=80,
        samples_per_step=1000,
        learning_rate=0.05,
        eval_samples=10000,
        seed=3,
    )


def test_gs_with_20_categories_cannot_reach_50_but_truncated_igr_sb_can(poisson50):
    gs, sb = poisson50["fits"]
    assert (gs["family"], gs["num_categories"]) == ("gs", 20)
    assert gs["max_sample"] <= 19
    assert gs["share_at_or_above_50"] == 0.0
    assert gs["total_variation"] > 0.99
    assert sb["family"] == "igr_sb"
    assert sb["max_sample"] >= 50
    assert sb["share_at_or_above_50"] > 0.3  # target: 0.519
    assert sb["total_variation"] < 0.2
    assert abs(sb["mean"] - 50.0) < 3.0
    assert sb["categories_used"] > 50


def test_claim_check_reads_the_poisson_fits(poisson50):
    verdict = claim_check([poisson50])
    assert verdict["verdict"] == "supported", verdict
    assert "Adam steps" in verdict["scale"]
    between = json.loads(json.dumps(poisson50))
    between["fits"][1]["total_variation"] = 0.4
    assert claim_check([between])["verdict"] == "inconclusive"
    broken = json.loads(json.dumps(poisson50))
    broken["fits"][1]["total_variation"] = 0.6
    assert claim_check([broken])["verdict"] == "contradicted"
    missing = claim_check([{**poisson50, "target": "binomial"}])
    assert missing["verdict"] == "not assessable" and "no Poisson(50)" in missing["reason"]


def test_fits_are_deterministic_given_the_seed():
    distribution = approx.target_distribution(
        "binomial", {"total_count": 4, "probs": 0.5}
    )
    settings = {
        "num_steps": 5,
        "samples_per_step": 200,
        "learning_rate": 0.05,
        "eval_samples": 500,
        "seed": 11,
    }
    first = approx.fit_truncated_igr_sb(distribution, 10, 0.01, 0.9, 0.75, **settings)
    second = approx.fit_truncated_igr_sb(distribution, 10, 0.01, 0.9, 0.75, **settings)
    assert first == second
    other = approx.fit_truncated_igr_sb(
        distribution, 10, 0.01, 0.9, 0.75, **{**settings, "seed": 12}
    )
    assert other["parameters"] != first["parameters"]


def test_cli_writes_fits_and_the_summary(tmp_path):
    from igr.cli import main

    output = tmp_path / "binomial.json"
    assert (
        main(
            [
                "approximate",
                "--target",
                "binomial",
                "--parameter",
                "total_count=6",
                "--parameter",
                "probs=0.4",
                "--gs-num-categories",
                "8",
                "4",
                "--gs-temperature",
                "0.1",
                "--igr-sb-max-categories",
                "12",
                "--igr-sb-temperature",
                "0.01",
                "--igr-sb-threshold",
                "0.9",
                "--igr-sb-quantile",
                "0.75",
                "--num-steps",
                "3",
                "--samples-per-step",
                "100",
                "--learning-rate",
                "0.05",
                "--eval-samples",
                "300",
                "--seed",
                "1",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    record = json.loads(output.read_text())
    assert [(f["family"], f["num_categories"]) for f in record["fits"]] == [
        ("gs", 4),
        ("gs", 8),
        ("igr_sb", 12),
    ]
    assert record["target_parameters"] == {"total_count": 6.0, "probs": 0.4}
    assert all(sum(f["histogram"]) == pytest.approx(1.0) for f in record["fits"])
    table, figure, claim = tmp_path / "t.csv", tmp_path / "f.png", tmp_path / "c.csv"
    assert (
        main(
            [
                "summarize-approximations",
                str(output),
                "--output-table",
                str(table),
                "--output-figure",
                str(figure),
                "--output-claim",
                str(claim),
            ]
        )
        == 0
    )
    import pandas as pd

    frame = pd.read_csv(table)
    assert list(frame["num_categories"]) == [4, 8, 12]
    assert figure.stat().st_size > 10_000
    assert pd.read_csv(claim)["verdict"].item() == "not assessable"
    with pytest.raises(SystemExit, match="takes parameters"):
        main(
            [
                "approximate",
                "--target",
                "poisson",
                "--parameter",
                "mean=3",
                "--gs-num-categories",
                "8",
                "--gs-temperature",
                "0.1",
                "--igr-sb-max-categories",
                "12",
                "--igr-sb-temperature",
                "0.01",
                "--igr-sb-threshold",
                "0.9",
                "--igr-sb-quantile",
                "0.75",
                "--num-steps",
                "3",
                "--samples-per-step",
                "100",
                "--learning-rate",
                "0.05",
                "--eval-samples",
                "300",
                "--seed",
                "1",
                "--output",
                str(tmp_path / "x.json"),
            ]
        )
