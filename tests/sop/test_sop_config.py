"""Config of the "sop" stage: bad values are rejected naming the key (unit tests of
igr.pipeline.config; tests/pipeline/test_pipeline_config.py runs a few through Snakemake)."""

from __future__ import annotations

import pytest

from igr.pipeline.config import config_problems
from tests.config_cases import SCHEMA, assert_rejected, with_change

CASES = [
    ("sop.families", ["gs", "igr_x"], "'sop.families[1]'", "is not one of"),
    ("sop.temperatures.igr_i", 0, "'sop.temperatures.igr_i'", "less than or equal"),
    ("sop.temperatures.reinmax", "hot", "'sop.temperatures.reinmax'", "or 'calibrated'"),
    ("sop.families", ["gs", "igr_sb_trunc"], "'sop.families[1]'", "is not one of"),
    ("sop.dataset", "celeba", "'sop.dataset'", "is not one of"),
    (
        "sop.learning_rate.decay_rate",
        0.1,
        "'sop.learning_rate.decay_rate'",
        "unknown key",
    ),
]


@pytest.mark.parametrize(("key", "value", "named", "reason"), CASES)
def test_bad_value_is_rejected_naming_the_key(key, value, named, reason):
    assert_rejected(key, value, named, reason)


def test_the_baselines_are_sop_families():
    """ST-GS and ReinMax (issue 17) pass the checks, with a number or calibrated."""
    config = with_change("sop.families", ["gs", "st_gs", "reinmax"])
    config = with_change("sop.temperatures", {"st_gs": "calibrated", "reinmax": 1.5}, config)
    assert config_problems(config, SCHEMA, environ={}) == []
