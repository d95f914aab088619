"""Bad input to ``igr vae train|evaluate`` and ``igr sop train``: one line, exit 2, no
traceback, nothing written, before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from igr.errors import EXIT_BAD_INPUT


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _vae_train(folder: Path, prior: Path, *extra: str, family="igr_i", dataset="digits",
               output=None) -> list[str]:
    return [
        sys.executable, "-m", "igr", "vae", "train", "--dataset", dataset,
        "--architecture", "nonlinear", "--family", family, "--prior", str(prior),
        "--temperature", "0.5", "--epochs", "1", "--seed", "7",
        "--run-dir", str(folder / "run"), "--history", str(folder / "history.csv"),
        "--output", str(output or folder / "train.json"), *extra,
    ]


def _assert_refused(result, folder: Path, *named: str):
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, result.stderr
    for text in named:
        assert text in lines[0], lines[0]
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("input")) == [], \
        "something was written"


def _run(command, **env):
    return subprocess.run(command, env=_env(**env), capture_output=True, text=True, check=False)


def _prior_variant(prior_files, tmp_path: Path, family: str, change) -> Path:
    record = json.loads(prior_files[family].read_text())
    change(record)
    path = tmp_path / "input-prior.json"
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize(
    ("family", "prior_family", "named"),
    [
        ("gs", "igr_i", "holds a igr_i prior, but family gs reads the gs prior"),
        ("igr_i", "igr_sb", "holds a igr_sb prior, but family igr_i reads the igr_i prior"),
        ("igr_sb", "igr_i", "holds a igr_i prior, but family igr_sb reads the igr_sb prior"),
        ("igr_planar", "gs", "family igr_planar reads the igr_i prior"),
    ],
)
def test_a_prior_of_another_family_is_refused(prior_files, tmp_path, family, prior_family, named):
    result = _run(_vae_train(tmp_path, prior_files[prior_family], family=family))
    _assert_refused(result, tmp_path, f"--prior {prior_files[prior_family]}", named)


def test_a_prior_of_another_k_or_v_or_a_corrupt_one_is_refused(prior_files, tmp_path):
    result = _run(_vae_train(tmp_path, prior_files["igr_i"], "--num-categories", "5"))
    _assert_refused(result, tmp_path, "is for K = 10, but the model has K = 5")

    def per_variable(record):  # a [V, K-1] prior for V = 3
        record["loc"], record["scale"] = [record["loc"]] * 3, [record["scale"]] * 3

    wide = _prior_variant(prior_files, tmp_path, "igr_i", per_variable)
    result = _run(_vae_train(tmp_path, wide, "--num-variables", "20"))
    _assert_refused(result, tmp_path, "'loc' has 3 rows, but the model has V = 20")

    truncated = tmp_path / "input-truncated.json"
    truncated.write_text(prior_files["igr_i"].read_text()[:120])
    result = _run(_vae_train(tmp_path, truncated))
    _assert_refused(result, tmp_path, f"--prior {truncated}", "not valid JSON")

    short = _prior_variant(prior_files, tmp_path, "igr_i", lambda r: r["loc"].pop())
    _assert_refused(_run(_vae_train(tmp_path, short)), tmp_path, "'loc' must hold 9 values")


def test_an_unknown_dataset_and_an_output_folder_are_refused(prior_files, tmp_path):
    result = _run(_vae_train(tmp_path, prior_files["igr_i"], dataset="cifar"))
    _assert_refused(result, tmp_path, "--dataset", "invalid choice: 'cifar'")
    folder = tmp_path / "input-folder"
    folder.mkdir()
    result = _run(_vae_train(tmp_path, prior_files["igr_i"], output=folder))
    _assert_refused(result, tmp_path, f"--output {folder}: is an existing folder")
    sop = [
        sys.executable, "-m", "igr", "sop", "train", "--family", "gs", "--dataset", "digits",
        "--hidden-units", "8", "--temperature", "0.5", "--epochs", "1", "--seed", "1",
        "--run-dir", str(tmp_path / "run"), "--output", str(folder),
    ]
    _assert_refused(_run(sop), tmp_path, f"--output {folder}: is an existing folder")


def test_an_unreadable_data_file_is_refused_naming_it(prior_files, tmp_path):
    data = tmp_path / "input-data" / "mnist"
    data.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (data / name).write_bytes(b"\x1f\x8b not really gzip")
    result = _run(_vae_train(tmp_path, prior_files["igr_i"], dataset="mnist"),
                  IGR_DATA_DIR=str(data.parent))
    _assert_refused(result, tmp_path, str(data / "train-images-idx3-ubyte.gz"), "corrupted")


def test_evaluate_refuses_a_record_that_is_not_a_train_record(tmp_path):
    record = tmp_path / "input-record.json"
    record.write_text("{\"settings\": {}}")
    result = _run([sys.executable, "-m", "igr", "vae", "evaluate", str(record),
                   "--output", str(tmp_path / "evaluation.json")])
    _assert_refused(result, tmp_path, "not a train record of this igr (no fingerprint)")


def test_a_compilation_other_than_the_rules_expect_is_refused(prior_files, tmp_path):
    """``--expect-xla`` names the parts the rules resolved from igr.families; a job whose
    code would compile others (the table changed under a planned DAG) stops before work."""
    result = _run(_vae_train(tmp_path, prior_files["igr_i"], "--jit", "false",
                             "--expect-xla", "training"))
    _assert_refused(result, tmp_path, "--expect-xla training", "under --jit false",
                    "compiles none")
