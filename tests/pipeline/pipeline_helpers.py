"""Helpers that run the real ``snakemake`` in a temporary copy of the workflow.

The copy holds only the workflow files (Snakefile, rules, config, workflow, envs); the jobs
call the installed ``igr`` console script. The default pipeline runs once per test session
(``default_run``) and the tests that need its results share it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "rules", "config", "workflow", "envs", "profiles")
CORES = 2
#: Seconds before a snakemake call is interrupted (SIGINT, then SIGKILL).
SNAKEMAKE_TIMEOUT_S = 600


@dataclasses.dataclass
class Completed:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall_s: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def tool_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for snakemake and its jobs: this interpreter's scripts first on PATH."""
    env = dict(os.environ, **(extra or {}))
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_command(
    args: list[str], cwd: Path, timeout: float = SNAKEMAKE_TIMEOUT_S, env: dict | None = None
) -> Completed:
    """Run ``args`` in ``cwd``; on timeout send SIGINT (snakemake stops cleanly), then kill."""
    start = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=tool_environment(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        pytest.fail(f"timed out after {timeout} s: {' '.join(args)}\n{stdout}\n{stderr}")
    return Completed(args, process.returncode, stdout, stderr, time.perf_counter() - start)


def snakemake(
    cwd: Path, *args: str, timeout: float = SNAKEMAKE_TIMEOUT_S, env: dict | None = None
) -> Completed:
    """``python -m snakemake ARGS`` in ``cwd`` with this interpreter (``env``: extra variables)."""
    return run_command([sys.executable, "-m", "snakemake", *args], cwd, timeout, env)


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow files of the repository into ``destination`` (a fresh checkout)."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def default_config(workdir: Path) -> dict:
    return yaml.safe_load((workdir / "config" / "config.yaml").read_text())


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


_JOB_HEADER = re.compile(r"^(?:local)?rule (\w+):\s*$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def planned_jobs(dry_run_output: str) -> list[str]:
    """Jobs a ``snakemake -n`` plans, as sorted ``rule`` or ``rule[wildcards]`` strings."""
    jobs: list[list[str]] = []
    for line in dry_run_output.splitlines():
        header = _JOB_HEADER.match(line)
        if header:
            jobs.append([header.group(1), ""])
            continue
        wildcards = _WILDCARDS.match(line)
        if wildcards and jobs and not jobs[-1][1]:
            jobs[-1][1] = wildcards.group(1).strip()
    return sorted(f"{rule}[{wildcards}]" if wildcards else rule for rule, wildcards in jobs)
