"""One verdict vocabulary for every stage, with abstention (igr.reporting.verdicts)."""

import pytest

from igr.reporting import approximations, simplex_proximity, sop, vae
from igr.reporting.verdicts import (
    VERDICTS,
    ClaimSettings,
    Verdict,
    compare,
    degenerate_reason,
    scale_statement,
)

SETTINGS = ClaimSettings(scale="smoke", min_seeds=2, collapse_kl_per_variable=0.01,
                         max_relaxation_gap=20.0)


def test_compare_abstains_with_too_few_seeds_or_within_the_margin():
    assert compare(5.0, 1.0, 2, SETTINGS, "x").verdict == "supported"
    assert compare(-5.0, 1.0, 2, SETTINGS, "x").verdict == "contradicted"
    assert compare(0.5, 1.0, 5, SETTINGS, "x").verdict == "inconclusive"
    few = compare(5.0, 1.0, 1, SETTINGS, "x")
    assert few.verdict == "inconclusive" and "at least 2 needed" in few.reason
    assert compare(float("nan"), 1.0, 2, SETTINGS, "x").verdict == "not assessable"


def test_degenerate_runs_are_named():
    assert "posterior collapse" in degenerate_reason(0.001, 1.0, SETTINGS)
    assert "relaxation gap" in degenerate_reason(1.0, 25.0, SETTINGS)
    assert "non-finite" in degenerate_reason(float("nan"), 1.0, SETTINGS)
    assert degenerate_reason(1.0, 1.0, SETTINGS) is None


def test_only_the_four_verdicts_exist():
    with pytest.raises(ValueError, match="unknown verdict"):
        Verdict("mixed", "no")
    assert VERDICTS == ("supported", "contradicted", "inconclusive", "not assessable")


def test_every_stage_imports_the_one_vocabulary():
    """No stage keeps a vocabulary of its own (yes/partly/no, mixed, not tested)."""
    import inspect

    for module in (approximations, simplex_proximity, sop, vae):
        source = inspect.getsource(module)
        assert "igr.reporting.verdicts" in source, module.__name__
        for word in ('"yes"', '"partly"', '"mixed"', '"not tested"'):
            assert word not in source, (module.__name__, word)


def test_the_scale_is_stated_and_smoke_says_so():
    text = scale_statement({"dataset": "digits", "epochs": 5, "seeds": 1}, SETTINGS)
    assert text.startswith("Scale: dataset digits, epochs 5, seeds 1; smoke scale")
    paper = scale_statement({"dataset": "mnist"}, ClaimSettings(scale="paper"))
    assert "paper scale" in paper and "smoke" not in paper
