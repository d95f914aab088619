"""The data stage as a pipeline rule: a local job that fetches, verifies and records a dataset."""

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.pipeline.pipeline_helpers import copy_workflow, snakemake, write_config

SHARED_DATA = os.environ.get("IGR_DATA_DIR")
needs_mnist = pytest.mark.skipif(
    not SHARED_DATA or not (Path(SHARED_DATA) / "mnist").is_dir(),
    reason="IGR_DATA_DIR with mnist/ is not set (CI sets it)",
)


@needs_mnist
def test_fetch_rule_records_the_verified_mnist_files(tmp_path):
    workdir = copy_workflow(tmp_path / "repo")
    result = snakemake(
        workdir,
        "--cores",
        "1",
        "results/data/mnist.json",
        "--config",
        f"data={{'dir': '{SHARED_DATA}'}}",
    )
    assert result.returncode == 0, result.output
    manifest = json.loads((workdir / "results/data/mnist.json").read_text())
    recorded = {entry["name"]: entry["sha256_of_content"] for entry in manifest["files"]}
    assert recorded["train-images-idx3-ubyte.gz"] == (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    )
    assert len(recorded) == 4


@needs_mnist
def test_fetch_rule_fails_with_the_clear_error_on_a_corrupted_file(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(SHARED_DATA) / "mnist", data / "mnist")
    labels = data / "mnist" / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] ^= 0xFF
    labels.write_bytes(gzip.compress(bytes(content)))
    workdir = copy_workflow(tmp_path / "repo")
    # Offline: the repair download cannot reach the mirrors, so the job fails and says why.
    overrides = write_config(tmp_path / "offline.yaml", {"data": {"dir": str(data), "retries": 1}})
    result = snakemake(
        workdir, "--cores", "1", "results/data/mnist.json", "--configfile", str(overrides)
    )
    assert result.returncode != 0
    assert not (workdir / "results/data/mnist.json").exists()
    log = (workdir / "logs/fetch_data/mnist.log").read_text()
    assert "t10k-labels-idx1-ubyte" in log and "ff7bcfd416de33731a308c3f" in log, log
