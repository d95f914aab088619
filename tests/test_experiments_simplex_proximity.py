"""Stage "simplex proximity" (spec section 4): distances, samples and the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from igr.cli import main
from igr.experiments.priors import learn_prior
from igr.experiments.simplex_proximity import distance_to_argmax_vertex, load_igr_i_prior, simplex_proximity
from igr.io import write_json_atomic


def test_distance_to_argmax_vertex():
    psi = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.7, 0.2]])
    expected = [0.0, math.sqrt(0.5), math.sqrt(2 / 3), math.sqrt(0.01 + 0.09 + 0.04)]
    np.testing.assert_allclose(distance_to_argmax_vertex(psi), expected, atol=1e-12)


@pytest.fixture
def igr_i_prior_file(tmp_path):
    path = tmp_path / "igr_i_K8.json"
    write_json_atomic(path, learn_prior("igr_i", 8, scale=1.0))
    return path


def test_summary_is_deterministic_and_colder_is_nearer(igr_i_prior_file):
    prior = load_igr_i_prior(igr_i_prior_file, 8)
    args = (8, [0.05, 0.5, 2.0], 3000, 7, ["gs", "igr_i"], prior)
    table = simplex_proximity(*args)
    pd.testing.assert_frame_equal(table, simplex_proximity(*args))
    assert len(table) == 6
    for _, rows in table.groupby("family"):
        assert rows["median"].is_monotonic_increasing
        assert rows["median"].iloc[0] < 0.05
    assert (table["q75"] <= math.sqrt(1 - 1 / 8) + 1e-6).all()


def test_temperature_grid_does_not_change_other_rows(igr_i_prior_file):
    prior = load_igr_i_prior(igr_i_prior_file, 8)
    full = simplex_proximity(8, [0.1, 0.3], 500, 3, ["gs", "igr_i"], prior)
    part = simplex_proximity(8, [0.3], 500, 3, ["igr_i"], prior)
    row = full[(full["family"] == "igr_i") & (full["temperature"] == 0.3)].reset_index(drop=True)
    pd.testing.assert_frame_equal(row, part)


def test_prior_for_another_k_is_rejected(igr_i_prior_file):
    with pytest.raises(ValueError, match="K=5"):
        load_igr_i_prior(igr_i_prior_file, 5)


def test_commands_write_table_then_figure_and_claim(tmp_path, igr_i_prior_file):
    table, figure = tmp_path / "out" / "d.csv", tmp_path / "out" / "d.png"
    claims = tmp_path / "out" / "claims.md"
    assert main(["simplex-proximity", "--families", "gs", "igr_i", "--num-categories", "8",
                 "--temperatures", "0.1", "1.0", "--num-samples", "200", "--seed", "1",
                 "--igr-i-prior", str(igr_i_prior_file), "--output-table", str(table)]) == 0
    frame = pd.read_csv(table)
    assert list(frame.columns) == ["family", "temperature", "num_categories", "num_samples",
                                   "mean", "q25", "median", "q75"]
    assert sorted(p.name for p in table.parent.iterdir()) == ["d.csv"]  # the experiment draws nothing
    assert main(["summarize-simplex-proximity", str(table), "--output-figure", str(figure),
                 "--output-claims", str(claims)]) == 0
    assert figure.read_bytes()[:4] == b"\x89PNG"
    assert "K = 8, 200 samples per temperature" in claims.read_text()


def test_command_rejects_non_positive_temperature(tmp_path):
    with pytest.raises(SystemExit):
        main(["simplex-proximity", "--families", "gs", "--num-categories", "8", "--temperatures", "0",
              "--num-samples", "10", "--seed", "1", "--output-table", str(tmp_path / "t.csv")])


def test_proximity_claim_verdicts():
    from igr.reporting.simplex_proximity import proximity_claim

    def table(igr_medians, gs_medians):
        rows = []
        for family, medians in (("igr_i", igr_medians), ("gs", gs_medians)):
            for temperature, median in zip((0.1, 0.5), medians):
                rows.append({"family": family, "temperature": temperature, "median": median,
                             "num_categories": 10, "num_samples": 100})
        return pd.DataFrame(rows)

    assert "**supported**" in proximity_claim(table([0.1, 0.2], [0.3, 0.4]))
    assert "**contradicted**" in proximity_claim(table([0.5, 0.6], [0.3, 0.4]))
    mixed = proximity_claim(table([0.1, 0.6], [0.3, 0.4]))
    assert "**mixed**" in mixed and "smaller at 1 of 2 temperatures" in mixed
    assert "tau = 0.5: IGR-I 0.600, GS 0.400" in mixed
    assert "not assessed" in proximity_claim(table([0.1, 0.2], [0.3, 0.4]).query("family == 'gs'"))
