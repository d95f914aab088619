"""Where a result came from: code, interpreter, packages and machine (TF-free).

:func:`collect` returns the block that every run record (``train.json``,
``evaluation.json``, prior, temperature and approximation records) carries under
``"provenance"``, and that the report's provenance page shows:

- ``igr``: version, git commit of the checkout and whether it had uncommitted changes
  (``dirty``; null when the code is not in a git checkout);
- ``python`` and ``packages``: versions of the packages results depend on (installed
  metadata, nothing is imported);
- ``platform``: OS, machine, CPU model and count, and the GPUs ``nvidia-smi`` lists.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions every record names.
PACKAGES: tuple[str, ...] = (
    "tensorflow", "tensorflow-probability", "tf-keras", "numpy", "scipy", "pandas",
    "matplotlib", "seaborn", "scikit-learn", "snakemake", "snakemake-executor-plugin-slurm",
)

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def _run(command: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(root: Path = SOURCE_ROOT) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout holding igr."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return {"commit": None, "dirty": None}
    commit = _run(["git", "rev-parse", "HEAD"], root)
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[str]:
    """GPU names from ``nvidia-smi`` (empty without an NVIDIA driver)."""
    if shutil.which("nvidia-smi") is None:
        return []
    listed = _run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"])
    return [line.strip() for line in (listed or "").splitlines() if line.strip()]


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, Any]:
    from igr import __version__

    return {
        "igr": {"version": __version__, **git_state()},
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "gpus": gpus(),
        },
    }


def collect() -> dict[str, Any]:
    """The provenance block (a fresh copy; computed once per process)."""
    import copy

    return copy.deepcopy(_static())
