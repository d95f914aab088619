"""Stage "simplex proximity" (spec section 4): distances, sigma0, claims, the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from igr.cli import main
from igr.experiments.simplex_proximity import distance_to_argmax_vertex, simplex_proximity


def test_distance_to_argmax_vertex():
    psi = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.7, 0.2]])
    expected = [0.0, math.sqrt(0.5), math.sqrt(2 / 3), math.sqrt(0.01 + 0.09 + 0.04)]
    np.testing.assert_allclose(distance_to_argmax_vertex(psi), expected, atol=1e-12)


def test_summary_is_deterministic_and_colder_is_nearer():
    args = (8, [0.05, 0.5, 2.0], 3000, 7, ["gs", "igr_i"], [1.0])
    table = simplex_proximity(*args)
    pd.testing.assert_frame_equal(table, simplex_proximity(*args))
    assert len(table) == 6
    for _, rows in table.groupby("family"):
        assert rows["median"].is_monotonic_increasing
        assert rows["median"].iloc[0] < 0.05
    assert (table["q75"] <= math.sqrt(1 - 1 / 8) + 1e-6).all()


def test_igr_i_with_sigma0_at_tau_is_igr_i_with_1_at_tau_over_sigma0():
    """The equivalence the claim states: same draws, same distances."""
    table = simplex_proximity(8, [0.2, 0.6], 2000, 3, ["igr_i"], [1.0, 3.0])
    one = table[table["sigma0"] == 1.0].set_index("temperature")
    three = table[table["sigma0"] == 3.0].set_index("temperature")
    assert three.loc[0.6, "median"] == pytest.approx(one.loc[0.2, "median"], rel=1e-4)


def test_temperature_grid_does_not_change_other_rows():
    full = simplex_proximity(8, [0.1, 0.3], 500, 3, ["gs", "igr_i"], [1.0])
    part = simplex_proximity(8, [0.3], 500, 3, ["igr_i"], [1.0])
    row = full[(full["family"] == "igr_i") & (full["temperature"] == 0.3)].reset_index(drop=True)
    pd.testing.assert_frame_equal(row, part)


def test_commands_write_table_then_figure_and_claim(tmp_path):
    table, figure = tmp_path / "out" / "d.csv", tmp_path / "out" / "d.png"
    claims = tmp_path / "out" / "claims.md"
    assert main(["simplex-proximity", "--families", "gs", "igr_i", "--num-categories", "8",
                 "--temperatures", "0.1", "1.0", "--num-samples", "200", "--seed", "1",
                 "--igr-i-scales", "1", "3", "--output-table", str(table)]) == 0
    frame = pd.read_csv(table)
    assert list(frame.columns) == ["family", "sigma0", "temperature", "num_categories",
                                   "num_samples", "mean", "q25", "median", "q75"]
    assert sorted(frame["sigma0"].dropna().unique()) == [1.0, 3.0]
    assert sorted(p.name for p in table.parent.iterdir()) == ["d.csv"]  # the experiment draws nothing
    assert main(["summarize-simplex-proximity", str(table), "--output-figure", str(figure),
                 "--output-claims", str(claims)]) == 0
    assert figure.read_bytes()[:4] == b"\x89PNG"
    text = claims.read_text()
    assert "sigma0 = 1:" in text and "sigma0 = 3:" in text
    assert "IGR-I(1, tau / sigma0)" in text and "smoke scale" in text


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
                rows.append({"family": family, "sigma0": 1.0 if family == "igr_i" else None,
                             "temperature": temperature, "median": median,
                             "num_categories": 10, "num_samples": 100})
        return pd.DataFrame(rows)

    assert "**supported**" in proximity_claim(table([0.1, 0.2], [0.3, 0.4]))
    assert "**contradicted**" in proximity_claim(table([0.5, 0.6], [0.3, 0.4]))
    mixed = proximity_claim(table([0.1, 0.6], [0.3, 0.4]))
    assert "**inconclusive**" in mixed and "(1 of 2)" in mixed
    assert "tau = 0.5: IGR-I 0.600, GS 0.400" in mixed
    only_gs = proximity_claim(table([0.1, 0.2], [0.3, 0.4]).query("family == 'gs'"))
    assert "**not assessable**" in only_gs
