"""The toy gradient study: exact gradients, the statistics and their standard errors, and the
bias of each estimator (REINFORCE unbiased, ST-GS biased, ReinMax below ST-GS at tau 1)."""

import math

import numpy as np
import pytest

from igr.experiments import gradient_study as study

SEED = 2020


def _central_difference(point, vertex_values, step=1e-5):
    names = point.gradient_of
    flat = np.concatenate([point.parameters[n] for n in names])
    sizes = np.cumsum([point.parameters[n].shape[-1] for n in names])[:-1]
    gradient = []
    for i in range(flat.size):
        values = []
        for sign in (1.0, -1.0):
            moved = flat.copy()
            moved[i] += sign * step
            parameters = dict(zip(names, np.split(moved, sizes)))
            shifted = study.FamilyPoint(point.family, point.num_categories, parameters)
            values.append(study.exact_objective(shifted, vertex_values))
        gradient.append((values[0] - values[1]) / (2 * step))
    return np.array(gradient)


@pytest.mark.parametrize("family", ["gs", "igr_i"])
@pytest.mark.parametrize("objective", study.OBJECTIVES)
def test_exact_gradient_matches_central_differences_of_the_exact_objective(family, objective):
    point = study.family_point(family, 7, SEED)
    f = study.make_objective(objective, 7, SEED)
    (exact,) = study.exact_gradients(point, [f], exact_draws=2, seed=SEED)
    assert exact.method == "exact" and not exact.covariance.any()
    assert np.linalg.norm(exact.value) > 0.01
    differences = _central_difference(point, f.vertex_values())
    np.testing.assert_allclose(exact.value, differences, atol=1e-8)


def test_score_function_gradient_agrees_with_igr_i_exact_gradient():
    """The Monte-Carlo route of IGR-Planar and IGR-SB, checked where the exact law is known:
    each coordinate within 4.5 of its standard errors, and a chi-square over all of them."""
    point = study.family_point("igr_i", 10, SEED)
    objectives = [study.make_objective(name, 10, SEED) for name in study.OBJECTIVES]
    estimates = study.score_function_gradients(
        point, [f.vertex_values() for f in objectives], 200_000, seed=5
    )
    for f, estimate in zip(objectives, estimates):
        exact = study.igr_i_gradient(point.parameters["loc"], point.parameters["scale"],
                                     f.vertex_values())
        error = estimate.value - exact
        assert estimate.method == "monte_carlo (200000 draws)"
        assert np.all(np.abs(error) < 4.5 * np.sqrt(np.diag(estimate.covariance)))
        chi_square = error @ np.linalg.solve(estimate.covariance, error)
        assert chi_square < 18 + 5 * math.sqrt(2 * 18)  # 18 coordinates


def test_parameter_points_are_fixed_by_the_seed_and_non_uniform():
    first = study.family_point("igr_planar", 10, SEED)
    again = study.family_point("igr_planar", 10, SEED)
    np.testing.assert_array_equal(first.parameters["loc"], again.parameters["loc"])
    assert first.flow[0].shape == (2, 9) and np.all(first.parameters["scale"] > 0)
    other = study.family_point("igr_planar", 10, SEED + 1)
    assert not np.allclose(first.parameters["loc"], other.parameters["loc"])
    logits = study.family_point("gs", 10, SEED).parameters["logits"]
    assert np.ptp(logits) > 1.0


def test_statistics_recover_a_known_bias_and_variance():
    """Synthetic Gaussian draws with mean g + delta and covariance A A^T."""
    rng = np.random.default_rng(0)
    g, a = rng.normal(size=8), 0.5 * rng.normal(size=(8, 8))
    delta = np.zeros(8)
    delta[0] = 0.05
    draws = g + delta + rng.normal(size=(40_000, 8)) @ a.T
    summary = study.summarize_draws(draws, study.ExactGradient(g, np.zeros((8, 8)), "exact"))
    assert abs(summary["squared_bias"] - 0.05**2) < 3 * summary["squared_bias_se"]
    assert abs(summary["bias"] - 0.05) < 3 * summary["bias_se"]
    assert abs(summary["variance"] - np.trace(a @ a.T)) < 3 * summary["variance_se"]
    assert abs(summary["mse"] - np.trace(a @ a.T) - 0.05**2) < 3 * summary["mse_se"]
    assert summary["cosine"] == pytest.approx(g @ (g + delta) / np.linalg.norm(g)
                                              / np.linalg.norm(g + delta), abs=3e-3)


def test_monte_carlo_exact_error_widens_the_standard_errors_and_is_subtracted():
    rng = np.random.default_rng(1)
    g = rng.normal(size=4)
    draws = g + 0.1 + rng.normal(size=(4000, 4))
    exact = study.summarize_draws(draws, study.ExactGradient(g, np.zeros((4, 4)), "exact"))
    noisy = study.summarize_draws(draws, study.ExactGradient(g, 1e-3 * np.eye(4), "mc"))
    assert noisy["squared_bias"] == pytest.approx(exact["squared_bias"] - 4e-3)
    assert noisy["squared_bias_se"] > exact["squared_bias_se"]
    assert noisy["exact_standard_error"] == pytest.approx(math.sqrt(4e-3))
    assert noisy["variance_se"] == exact["variance_se"]


@pytest.fixture(scope="module")
def toy():
    """K = 10, 10,000 draws, tau 0.5 and 1.0, every family and objective."""
    settings = study.ToyStudySettings(
        num_draws=10_000, categories=(10,), temperatures=(0.5, 1.0), exact_draws=300_000
    )
    return study.run_toy_study(settings)


def _row(frame, **keys):
    selected = frame
    for key, value in keys.items():
        selected = selected[selected[key] == value]
    assert len(selected) == 1, keys
    return selected.iloc[0]


@pytest.mark.parametrize("family", study.STUDY_FAMILIES)
@pytest.mark.parametrize("objective", study.OBJECTIVES)
def test_reinforce_is_unbiased_within_three_standard_errors(toy, family, objective):
    row = _row(toy, family=family, objective=objective, estimator="reinforce")
    assert abs(row.squared_bias) < 3 * row.squared_bias_se
    assert row.bias < row.bias_noise_floor + 3 * row.bias_se
    assert row.cosine > 0.4


@pytest.mark.parametrize("objective", study.OBJECTIVES)
def test_straight_through_gumbel_softmax_is_biased(toy, objective):
    row = _row(toy, family="gs", objective=objective, estimator="st_gs", temperature=1.0)
    assert row.squared_bias > 5 * row.squared_bias_se
    assert row.bias > 5 * row.bias_se and row.bias > 3 * row.bias_noise_floor


@pytest.mark.parametrize("objective", study.OBJECTIVES)
def test_reinmax_bias_is_below_straight_through_gumbel_softmax_at_tau_one(toy, objective):
    """At tau = 1 ReinMax is exactly unbiased for linear and quadratic f (Heun's rule)."""
    reinmax = _row(toy, family="gs", objective=objective, estimator="reinmax", temperature=1.0)
    st_gs = _row(toy, family="gs", objective=objective, estimator="st_gs", temperature=1.0)
    assert reinmax.bias + 3 * reinmax.bias_se < st_gs.bias - 3 * st_gs.bias_se
    assert abs(reinmax.squared_bias) < 3 * reinmax.squared_bias_se


def test_toy_table_has_one_row_per_configuration_and_documented_columns():
    settings = study.ToyStudySettings(
        num_draws=100, categories=(3, 4), temperatures=(0.5, 1.0), exact_draws=500, num_blocks=5
    )
    frame = study.run_toy_study(settings)
    assert tuple(frame.columns) == study.COLUMNS == tuple(study.COLUMN_DESCRIPTIONS)
    per_objective_and_k = (4 * 2 + 1) + 3 * (2 + 1)
    assert len(frame) == 2 * 2 * per_objective_and_k
    keys = ["objective", "num_categories", "family", "estimator", "temperature"]
    assert not frame[keys].fillna(-1).duplicated().any()
    reinforce = frame.estimator == "reinforce"
    assert frame.temperature[reinforce].isna().all() and frame.temperature[~reinforce].notna().all()
    numeric = frame.drop(columns=["temperature"]).select_dtypes("number")
    assert np.isfinite(numeric.to_numpy()).all()
    gs = frame.family == "gs"
    assert (frame.num_parameters[gs] == frame.num_categories[gs]).all()
    assert (frame.num_parameters[~gs] == 2 * (frame.num_categories[~gs] - 1)).all()
    assert set(frame.exact_method[frame.family.isin(["gs", "igr_i"])]) == {"exact"}
    assert set(frame.exact_method[frame.family.isin(["igr_planar", "igr_sb"])]) == {
        "monte_carlo (500 draws)"
    }
    assert set(frame.gradient_of) == {"logits", "loc,scale"}


def test_same_settings_give_the_same_table():
    settings = study.ToyStudySettings(num_draws=60, categories=(3,), temperatures=(1.0,),
                                      exact_draws=100, families=("gs", "igr_sb"), num_blocks=3)
    first, second = study.run_toy_study(settings), study.run_toy_study(settings)
    columns = [c for c in study.COLUMNS if c != "seconds"]
    assert first[columns].equals(second[columns])


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"temperatures": (0.5, 0.0)}, "--temperatures"),
        ({"categories": (1,)}, "--categories"),
        ({"num_draws": 10}, "--num-draws"),
        ({"families": ("igr_sb_trunc",)}, "--families"),
        ({"temperatures": (0.5, 0.5)}, "given twice"),
    ],
)
def test_bad_settings_are_input_errors_naming_the_option(changes, message):
    from igr.errors import InputError

    with pytest.raises(InputError, match=message):
        study.ToyStudySettings(**changes).check()


def test_calibrated_temperatures_add_rows_that_repeat_a_grid_row_at_the_same_tau():
    settings = study.ToyStudySettings(
        num_draws=80, categories=(3,), temperatures=(0.5, 1.0), exact_draws=200,
        families=("gs", "igr_i"), num_blocks=4, objectives=("linear",),
        calibrated_temperatures=(("gs", 3, 0.3), ("igr_i", 3, 0.5)),
    )
    frame = study.run_toy_study(settings)
    calibrated = frame[frame.temperature_kind == "calibrated"]
    assert sorted(calibrated.estimator[calibrated.family == "gs"]) == sorted(
        ["relaxed", "st_gs", "st", "reinmax"])
    assert set(calibrated.temperature[calibrated.family == "gs"]) == {0.3}
    assert list(calibrated.estimator[calibrated.family == "igr_i"]) == ["relaxed"]
    grid = frame[(frame.temperature_kind == "grid") & (frame.family == "igr_i")
                 & (frame.temperature == 0.5)].iloc[0]
    again = calibrated[calibrated.family == "igr_i"].iloc[0]
    assert grid.variance == again.variance and grid.bias == again.bias
    assert (frame.temperature_kind[frame.estimator == "reinforce"] == "").all()


def test_relative_variance_is_the_variance_over_the_squared_exact_norm(toy):
    np.testing.assert_allclose(toy.relative_variance, toy.variance / toy.exact_norm**2)
    assert (toy.relative_variance_se[toy.estimator == "relaxed"] > 0).all()


def test_gs_point_has_igr_i_argmax_law():
    """GS and IGR-I are compared on the same categorical law (module docstring)."""
    from igr.distributions import igr_i_argmax_probs

    igr_i = study.family_point("igr_i", 10, SEED).parameters
    logits = study.family_point("gs", 10, SEED).parameters["logits"]
    law = igr_i_argmax_probs(igr_i["loc"], igr_i["scale"], 0.0).numpy()
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(), law, rtol=1e-10)


@pytest.mark.parametrize(
    "calibrated, message",
    [
        ((("igr_sb", 3, 0.5),), "not in the study"),
        ((("gs", 4, 0.5),), "not in the study"),
        ((("gs", 3, 0.5), ("gs", 3, 0.4)), "given twice"),
        ((("gs", 3, -1.0),), "not a positive number"),
    ],
)
def test_bad_calibrated_temperatures_are_input_errors(calibrated, message):
    from igr.errors import InputError

    settings = study.ToyStudySettings(categories=(3,), families=("gs",),
                                      calibrated_temperatures=calibrated)
    with pytest.raises(InputError, match=f"--temperature-files: .*{message}"):
        settings.check()
