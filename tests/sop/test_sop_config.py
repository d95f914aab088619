"""Config of the "sop" stage: bad values fail before any job, naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))

from pipeline_helpers import copy_workflow, default_config, snakemake, write_config

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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("sop-config") / "igr")


def _with(config: dict, dotted_key: str, value) -> dict:
    *parents, last = dotted_key.split(".")
    section = config
    for name in parents:
        section = section.setdefault(name, {})
    section[last] = value
    return config


@pytest.mark.parametrize(("key", "value", "named", "reason"), CASES)
def test_bad_value_is_rejected_before_any_job(
    workdir, tmp_path, key, value, named, reason
):
    broken = write_config(
        tmp_path / "broken.yaml", _with(default_config(workdir), key, value)
    )
    result = snakemake(workdir, "--cores", "1", "--configfile", str(broken))
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if named in line]
    assert any(reason in line for line in lines), result.stderr
    for produced in ("results", "logs"):
        assert not (workdir / produced).exists(), f"{produced}/ was created: a job ran"
