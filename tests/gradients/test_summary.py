"""``igr gradients summarize``: the claim's verdicts on made-up tables, the figure, and the
claim file as the report's claims-at-a-glance reads it (no TensorFlow draws)."""

from __future__ import annotations

import pandas as pd
import pytest

from igr import cli
from igr.experiments.gradient_study import COLUMNS
from igr.reporting import gradients as report
from igr.reporting.pages import read_claims
from igr.reporting.verdicts import ClaimSettings

TEMPERATURES = (0.25, 1.0)


def _row(family, estimator, tau, kind, relative_variance, se=0.1, draws=10_000, k=10,
         objective="linear"):
    row = dict.fromkeys(COLUMNS, 0.0)
    row.update(objective=objective, num_categories=k, family=family, estimator=estimator,
               temperature=tau, temperature_kind=kind, num_draws=draws, exact_norm=2.0,
               bias=0.2, variance=4.0 * relative_variance, relative_variance=relative_variance,
               relative_variance_se=se, exact_method="exact", gradient_of="logits")
    return row


def _table(igr_values, gs_value=10.0, draws=10_000, calibrated=True, families=("igr_i",)):
    """GS relaxed at ``gs_value`` everywhere; each IGR family at ``igr_values`` (per tau)."""
    rows = []
    for objective in ("linear", "quadratic"):
        for tau in TEMPERATURES:
            rows.append(_row("gs", "relaxed", tau, "grid", gs_value, draws=draws,
                             objective=objective))
            rows.append(_row("gs", "st_gs", tau, "grid", 50.0, draws=draws, objective=objective))
            for family in families:
                rows.append(_row(family, "relaxed", tau, "grid", igr_values[tau], draws=draws,
                                 objective=objective))
        rows.append(_row("gs", "reinforce", float("nan"), "", 100.0, draws=draws,
                         objective=objective))
        if calibrated:
            rows.append(_row("gs", "relaxed", 0.16, "calibrated", gs_value, draws=draws,
                             objective=objective))
            for family in families:
                rows.append(_row(family, "relaxed", 0.08, "calibrated", igr_values[1.0],
                                 draws=draws, objective=objective))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _verdicts(text):
    return {row["subject"]: row["verdict"] for row in _claims(text)}


def _claims(text):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "claims.md"
    path.write_text(text)
    return read_claims(path, "gradient estimators")


def test_lower_everywhere_is_supported_higher_everywhere_contradicted():
    lower = report.gradient_claim(_table({0.25: 5.0, 1.0: 5.0}))
    assert _verdicts(lower)["IGR-I vs GS, calibrated temperature"] == "supported"
    assert _verdicts(lower)["IGR-I vs GS, equal temperature"] == "supported"
    higher = report.gradient_claim(_table({0.25: 20.0, 1.0: 20.0}))
    assert set(_verdicts(higher).values()) >= {"contradicted"}
    assert _verdicts(higher)["IGR-I vs GS, equal temperature"] == "contradicted"


def test_mixed_or_within_the_margin_is_inconclusive():
    mixed = report.gradient_claim(_table({0.25: 5.0, 1.0: 20.0}))
    assert _verdicts(mixed)["IGR-I vs GS, equal temperature"] == "inconclusive"
    # 2 sqrt(0.1^2 + 0.1^2) = 0.28: a difference of 0.2 is within the margin
    close = report.gradient_claim(_table({0.25: 9.8, 1.0: 9.8}))
    assert _verdicts(close)["IGR-I vs GS, calibrated temperature"] == "inconclusive"


def test_too_few_draws_abstain_and_missing_calibration_or_family_is_not_assessable():
    few = report.gradient_claim(_table({0.25: 5.0, 1.0: 5.0}, draws=9_999))
    assert set(_verdicts(few).values()) >= {"inconclusive"}
    assert "at least 10000 needed" in few
    uncalibrated = report.gradient_claim(_table({0.25: 5.0, 1.0: 5.0}, calibrated=False))
    verdicts = _verdicts(uncalibrated)
    assert verdicts["IGR-I vs GS, calibrated temperature"] == "not assessable"
    assert verdicts["IGR-I vs GS, equal temperature"] == "supported"
    assert verdicts["IGR-SB vs GS, equal temperature"] == "not assessable"


def test_claim_file_has_one_glance_row_per_family_and_comparison_with_the_scale():
    text = report.gradient_claim(_table({0.25: 5.0, 1.0: 5.0}, families=report.IGR_FAMILIES),
                                 ClaimSettings(scale="paper"))
    rows = _claims(text)
    assert len(rows) == 2 * len(report.IGR_FAMILIES)
    assert all(row["claim"] == report.CLAIM for row in rows)
    assert all(row["scale"].startswith("Scale: K 10") and "paper scale" in row["scale"]
               for row in rows)
    assert "relative variance GS 10 +- 0.1, IGR-I 5 +- 0.1" in text


def test_command_writes_figure_and_claims_and_checks_the_record(tmp_path, capsys):
    import json

    table = tmp_path / "toy.csv"
    _table({0.25: 5.0, 1.0: 5.0}, families=report.IGR_FAMILIES).to_csv(table, index=False)
    record = tmp_path / "toy.json"
    record.write_text(json.dumps({"rows": 1}))
    figure, claims = tmp_path / "out" / "toy.png", tmp_path / "out" / "claims.md"
    arguments = ["gradients", "summarize", str(table), "--figure", str(figure),
                 "--claims", str(claims)]
    assert cli.main([*arguments, "--record", str(record)]) == 2
    assert "records 1 rows" in capsys.readouterr().err and not claims.exists()
    assert cli.main(arguments) == 0
    assert figure.stat().st_size > 10_000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert claims.read_text().startswith(f"# Claim: {report.CLAIM}")


def test_a_table_of_something_else_is_refused_in_one_line(tmp_path, capsys):
    table = tmp_path / "other.csv"
    table.write_text("a,b\n1,2\n")
    code = cli.main(["gradients", "summarize", str(table), "--figure", str(tmp_path / "f.png"),
                     "--claims", str(tmp_path / "c.md")])
    error = capsys.readouterr().err
    assert code == 2 and "not a table of igr gradients toy" in error and error.count("\n") == 1


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_values_are_not_assessable(value):
    text = report.gradient_claim(_table({0.25: value, 1.0: 5.0}))
    assert _verdicts(text)["IGR-I vs GS, equal temperature"] == "not assessable"
