"""Helpers of the real-cluster tests: workflow copies, snakemake under a SIGINT timeout,
the jobs ``sacct`` recorded, and a numerical comparison of two runs' result files."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What a user's checkout needs to run the pipeline, plus the profile.
WORKFLOW_FILES = ("Snakefile", "rules", "config", "workflow", "envs", "profiles", "slurm")
PROFILE = REPO_ROOT / "slurm" / "config.yaml"
#: Seconds before a snakemake call gets SIGINT (it then cancels its SLURM jobs and stops).
SNAKEMAKE_TIMEOUT_S = 900
#: Result values compared between runs: |a - b| <= ABS_TOL + REL_TOL |b|.
REL_TOL = 1e-6
ABS_TOL = 1e-9
#: Keys and columns that describe the run, not its results (never compared): timings, and
#: where a training run resumed from (a preempted cluster job resumes, a local one not).
#: Left out of the comparison: timings, and the provenance block (where and with which
#: checkout a job ran: a cluster node is another machine, and the commit may have moved).
TIMING_NAME = re.compile(r"(^|_)(seconds|elapsed|duration|wall|time)(_s)?$|^resumed"
                         r"|^provenance$",
                         re.IGNORECASE)


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


def tool_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this environment) with this interpreter's scripts first on PATH
    (the jobs call the ``igr`` console script) and TensorFlow quiet."""
    env = dict(os.environ if base is None else base)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


class Command:
    """A command running in the background, its output going to temporary files (so a
    long, chatty snakemake never blocks on a full pipe while the test does other work)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str],
                 timeout: float = SNAKEMAKE_TIMEOUT_S):
        self.args, self.timeout = args, timeout
        # Closed by finish().
        self._stdout = tempfile.NamedTemporaryFile("w+")  # noqa: SIM115
        self._stderr = tempfile.NamedTemporaryFile("w+")  # noqa: SIM115
        self.start = time.perf_counter()
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=self._stdout,
                                        stderr=self._stderr, text=True)

    def running(self) -> bool:
        return self.process.poll() is None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def output_so_far(self) -> str:
        return "".join(Path(h.name).read_text(errors="replace")
                       for h in (self._stdout, self._stderr))

    def interrupt(self) -> None:
        """SIGINT, what Ctrl-C sends: snakemake cancels its SLURM jobs and exits."""
        if self.running():
            self.process.send_signal(signal.SIGINT)

    def finish(self) -> Completed:
        """Wait until it ends; past its timeout send SIGINT (snakemake then cancels its
        SLURM jobs and stops), then SIGKILL 60 s later. Exit status 124 on timeout."""
        returncode = None
        try:
            self.process.wait(timeout=max(1.0, self.timeout - self.elapsed()))
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            returncode = 124
        outputs = []
        for handle in (self._stdout, self._stderr):
            handle.seek(0)
            outputs.append(handle.read())
            handle.close()
        if returncode == 124:
            outputs[1] += f"\n[test] timed out after {self.timeout:.0f} s: sent SIGINT"
        return Completed(self.args, self.process.returncode if returncode is None
                         else returncode, outputs[0], outputs[1], self.elapsed())


def run_command(args: list[str], cwd: Path, env: dict[str, str],
                timeout: float = SNAKEMAKE_TIMEOUT_S) -> Completed:
    """Run ``args`` in ``cwd`` under a timeout that sends SIGINT (exit status 124 then)."""
    return Command(args, cwd, env, timeout).finish()


def snakemake_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args]


def copy_workflow(destination: Path) -> Path:
    """A fresh checkout of the workflow (and the slurm profile) in ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def profile_settings() -> dict:
    return yaml.safe_load(PROFILE.read_text())


def default_resources_args(**overrides) -> list[str]:
    """``--default-resources`` with the profile's block plus ``overrides``.

    On the command line, --default-resources replaces the profile's whole block, so a
    test-only partition has to repeat the profile's other defaults.
    """
    resources = dict(profile_settings()["default-resources"])
    resources.update(overrides)
    return ["--default-resources", *(f"{key}={value}" for key, value in resources.items())]


# --------------------------------------------------------------------------- dry runs

_JOB_HEADER = re.compile(r"^(local)?rule (\w+):\s*$")
_FIELD = re.compile(r"^\s+(wildcards|resources): (.*)$")


@dataclasses.dataclass
class PlannedJob:
    rule: str
    local: bool
    wildcards: str = ""
    resources: dict[str, str] = dataclasses.field(default_factory=dict)


def planned_jobs(dry_run_output: str) -> list[PlannedJob]:
    """Jobs of a ``snakemake -n`` output: rule, local or not, wildcards, resources."""
    jobs: list[PlannedJob] = []
    for line in dry_run_output.splitlines():
        header = _JOB_HEADER.match(line)
        if header:
            jobs.append(PlannedJob(header.group(2), bool(header.group(1))))
            continue
        field = _FIELD.match(line)
        if field and jobs:
            if field.group(1) == "wildcards":
                jobs[-1].wildcards = field.group(2).strip()
            else:
                jobs[-1].resources = dict(
                    item.split("=", 1) for item in re.split(r",\s+(?=\w+=)", field.group(2).strip())
                )
    return jobs


# --------------------------------------------------------------------------- sacct

SACCT_FIELDS = ("JobIDRaw", "Comment", "State", "Partition", "Account", "ReqMem", "ReqCPUS",
                "Timelimit", "AllocTRES", "Constraints", "ExitCode")


def run_id(snakemake_output: str) -> str:
    """The SLURM run ID the executor printed (every job's name)."""
    match = re.search(r"SLURM run ID: (\S+)", snakemake_output)
    assert match, "no 'SLURM run ID' in the snakemake output"
    return match.group(1)


def sacct_jobs(env: dict[str, str], name: str) -> list[dict[str, str]]:
    """Allocations (sacct -X) of the jobs named ``name``, one dict per job, with ``rule``
    parsed from the comment the executor sets (``rule_<rule>[_wildcards_<values>]``)."""
    result = run_command(
        ["sacct", "-X", "--parsable2", "--noheader", "--name", name,
         "--format", ",".join(SACCT_FIELDS)],
        Path.cwd(), env, timeout=60,
    )
    assert result.returncode == 0, result.output
    jobs = []
    for line in result.stdout.splitlines():
        record = dict(zip(SACCT_FIELDS, line.split("|")))
        match = re.match(r"rule_(.+?)(?:_wildcards_(.*))?$", record["Comment"])
        record["rule"] = match.group(1) if match else ""
        record["wildcards"] = (match.group(2) or "") if match else ""
        jobs.append(record)
    return jobs


def timelimit_minutes(value: str) -> int:
    """sacct's ``[D-]HH:MM:SS`` as minutes."""
    days, _, clock = value.rpartition("-")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return (int(days or 0) * 24 + hours) * 60 + minutes + (seconds > 0)


# --------------------------------------------------------------------------- results

def result_files(workdir: Path) -> list[Path]:
    """Result tables and records (``*.csv``, ``*.json``) under ``results/``, relative paths,
    leaving out training run folders (checkpoints and the history being written)."""
    root = workdir / "results"
    return sorted(
        path.relative_to(workdir) for path in root.rglob("*")
        if path.suffix in (".csv", ".json") and "run" not in path.relative_to(root).parts[:-1]
    )


def _differences(expected, actual, where: str, workdirs: tuple[str, str]) -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        found = []
        for key in sorted(expected):
            if not TIMING_NAME.search(str(key)):
                found += _differences(expected[key], actual[key], f"{where}.{key}", workdirs)
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: length {len(expected)} != {len(actual)}"]
        found = []
        for index, (a, b) in enumerate(zip(expected, actual)):
            found += _differences(a, b, f"{where}[{index}]", workdirs)
        return found
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(actual, numbers) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        if math.isnan(expected) and math.isnan(actual):
            return []
        if not math.isclose(actual, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return [f"{where}: {actual!r} != {expected!r}"]
        return []
    if isinstance(expected, str) and isinstance(actual, str):
        expected = expected.replace(workdirs[0], "<workdir>")
        actual = actual.replace(workdirs[1], "<workdir>")
    if expected != actual:
        return [f"{where}: {actual!r} != {expected!r}"]
    return []


def compare_results(expected_dir: Path, actual_dir: Path) -> tuple[list[Path], list[str]]:
    """(files compared, differences) between two runs' result files: same files, same
    keys/columns, numbers equal within REL_TOL/ABS_TOL, everything else equal (paths
    inside the working directories compared relative to them, timings left out)."""
    files = result_files(expected_dir)
    differences = []
    missing = sorted(set(map(str, files)) ^ set(map(str, result_files(actual_dir))))
    if missing:
        differences.append(f"files in one run only: {missing}")
    workdirs = (str(expected_dir), str(actual_dir))
    for relative in files:
        expected_path, actual_path = expected_dir / relative, actual_dir / relative
        if not actual_path.exists():
            continue
        if relative.suffix == ".json":
            differences += _differences(json.loads(expected_path.read_text()),
                                        json.loads(actual_path.read_text()),
                                        str(relative), workdirs)
            continue
        expected, actual = pd.read_csv(expected_path), pd.read_csv(actual_path)
        if list(expected.columns) != list(actual.columns) or expected.shape != actual.shape:
            differences.append(f"{relative}: columns/shape {list(actual.columns)} "
                               f"{actual.shape} != {list(expected.columns)} {expected.shape}")
            continue
        for column in expected.columns:
            if not TIMING_NAME.search(column):
                differences += _differences(expected[column].tolist(), actual[column].tolist(),
                                            f"{relative}:{column}", workdirs)
    return files, differences
