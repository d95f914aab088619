"""The workflow passes ``snakemake --lint`` and ``snakefmt --check`` (CI runs both here)."""

from __future__ import annotations

import sys

from pipeline_helpers import REPO_ROOT, copy_workflow, run_command, snakemake


def test_snakemake_lint_reports_nothing(tmp_path):
    workdir = copy_workflow(tmp_path / "igr")
    result = snakemake(workdir, "--lint")
    assert result.returncode == 0, result.output


def test_snakefmt_check_passes():
    result = run_command([sys.executable, "-m", "snakefmt", "--check", "."], REPO_ROOT)
    assert result.returncode == 0, result.output


def test_conda_env_pins_every_runtime_dependency():
    """envs/igr.yaml installs igr with --no-deps, so it must pin each dependency itself
    (Snakemake and its SLURM plugin run outside the jobs and are not needed there)."""
    import re
    import tomllib

    import yaml

    def name(requirement: str) -> str:
        return re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower().replace("_", "-")

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    needed = {name(r) for r in project["dependencies"]} - {"snakemake", "snakemake-executor-plugin-slurm"}
    env = yaml.safe_load((REPO_ROOT / "envs" / "igr.yaml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert all("==" in pin for pin in pip_section), pip_section
    assert needed <= {name(pin) for pin in pip_section}
