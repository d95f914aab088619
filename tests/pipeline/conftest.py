"""Session fixture of the pipeline tests: the default pipeline, run once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_helpers import CORES, Completed, copy_workflow, snakemake


@pytest.fixture(scope="session")
def default_run(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Completed]:
    """The default pipeline, run once from a fresh copy: (working directory, result)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("default-run") / "igr")
    result = snakemake(workdir, "--cores", str(CORES))
    assert result.returncode == 0, result.output
    # tests/slurm compares its cluster run with this local run instead of running its own.
    request.config.igr_default_run_dir = workdir
    return workdir, result
