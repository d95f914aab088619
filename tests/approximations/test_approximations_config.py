"""Config of the "approximations" stage: bad values are rejected naming the key (unit tests of
igr.pipeline.config; tests/pipeline/test_pipeline_config.py runs a few through Snakemake)."""

from __future__ import annotations

import pytest

from tests.config_cases import assert_rejected

CASES = [
    (
        "approximations.targets.poisson.rate",
        -1,
        "'approximations.targets.poisson.rate'",
        "less than or equal",
    ),
    (
        "approximations.targets.geometric",
        {"probs": 0.4},
        "'approximations.targets.geometric'",
        "unknown key",
    ),
    (
        "approximations.igr_sb.threshold",
        1.5,
        "'approximations.igr_sb.threshold'",
        "greater than or equal",
    ),
    (
        "approximations.gs.num_categories",
        [1],
        "'approximations.gs.num_categories[0]'",
        "less than the minimum",
    ),
]


@pytest.mark.parametrize(("key", "value", "named", "reason"), CASES)
def test_bad_value_is_rejected_naming_the_key(key, value, named, reason):
    assert_rejected(key, value, named, reason)
