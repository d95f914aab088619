"""Fixtures of the real-cluster tests: a one-node SLURM cluster, started once per session.

Without the SLURM, munge and MariaDB programs (or without root) the cluster tests skip,
saying why -- except in CI (``CI=true``), where they fail: ``.ci/run`` installs the Debian
packages, so a missing program there is a bug.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from slurm_cluster import DEBIAN_PACKAGES, OneNodeCluster, missing_programs


def cluster_unavailable_reason() -> str | None:
    missing = missing_programs()
    if missing:
        return (f"SLURM test cluster needs {', '.join(missing)} "
                f"(apt-get install {' '.join(DEBIAN_PACKAGES)})")
    if os.geteuid() != 0:
        return "SLURM test cluster runs its daemons as root"
    return None


@pytest.fixture(scope="session")
def slurm_cluster():
    """A started :class:`OneNodeCluster`; every daemon is stopped by pid at the end, also
    when a test fails or the start itself fails."""
    reason = cluster_unavailable_reason()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true, so the real-cluster test must run")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="igr-slurm-"))
    cluster = OneNodeCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        problems = cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert not problems, problems
