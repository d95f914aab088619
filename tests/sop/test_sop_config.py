"""Config of the "sop" stage: bad values are rejected naming the key (unit tests of
igr.pipeline.config; tests/pipeline/test_pipeline_config.py runs a few through Snakemake)."""

from __future__ import annotations

import pytest

from tests.config_cases import assert_rejected

CASES = [
    ("sop.families", ["gs", "igr_x"], "'sop.families[1]'", "is not one of"),
    ("sop.temperatures.igr_i", 0, "'sop.temperatures.igr_i'", "less than or equal"),
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
