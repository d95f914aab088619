"""The training loop through ``igr vae train``: resume after SIGKILL/SIGTERM, NaN stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from igr.training import EXIT_DIVERGED, EXIT_PREEMPTED


def _command(prior_files, folder: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "igr", "vae", "train", "--dataset", "digits",
        "--architecture", "nonlinear", "--family", "igr_i", "--prior", str(prior_files["igr_i"]),
        "--temperature", "0.5", "--epochs", "3", "--batch-size", "10", "--learning-rate", "1e-3",
        "--seed", "7", "--threads", "1", "--eval-examples", "100",
        "--run-dir", str(folder / "run"), "--history", str(folder / "history.csv"),
        "--output", str(folder / "train.json"), *extra,
    ]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _final(folder: Path):
    record = json.loads((folder / "train.json").read_text())
    history = pd.read_csv(folder / "history.csv")
    return record["final"], history.drop(columns=["seconds"])


def _wait_for_checkpoint(folder: Path, process, timeout=120.0):
    index = folder / "run" / "checkpoints" / "checkpoint"
    started = time.monotonic()
    while not index.exists():
        assert process.poll() is None, "training finished before the first checkpoint"
        assert time.monotonic() - started < timeout
        time.sleep(0.05)


def test_resume_after_sigkill_and_sigterm_matches_uninterrupted_run(prior_files, tmp_path):
    reference, killed, terminated = tmp_path / "reference", tmp_path / "killed", tmp_path / "term"
    subprocess.run(_command(prior_files, reference), env=_env(), check=True, capture_output=True)

    # SIGKILL in the middle of epoch 2 (150 steps per epoch): nothing gets saved.
    process = subprocess.Popen(_command(prior_files, killed), env=_env(), stderr=subprocess.PIPE)
    _wait_for_checkpoint(killed, process)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "train.json").exists()
    rerun = subprocess.run(
        _command(prior_files, killed), env=_env(), capture_output=True, text=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr

    # SIGTERM: a checkpoint mid-epoch and the pre-emption exit status, then resume.
    process = subprocess.Popen(
        _command(prior_files, terminated), env=_env(), stderr=subprocess.PIPE, text=True
    )
    _wait_for_checkpoint(terminated, process)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate()
    assert process.returncode == EXIT_PREEMPTED, stderr
    assert "SIGTERM received: checkpoint saved" in stderr
    resumed = subprocess.run(
        _command(prior_files, terminated), env=_env(), capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr

    final_reference, history_reference = _final(reference)
    for folder in (killed, terminated):
        final, history = _final(folder)
        # Bit-identical on the CPU: exact equality of losses and test ELBOs of every epoch.
        assert final["loss"] == final_reference["loss"]
        assert final["test_elbo"] == final_reference["test_elbo"]
        pd.testing.assert_frame_equal(history, history_reference, check_exact=True)
    assert json.loads((killed / "train.json").read_text())["training"]["resumed_from_epoch"] >= 1


def test_nan_stops_at_once_naming_epoch_and_step(prior_files, tmp_path):
    # 150 steps per epoch; the loss of global step 170 (epoch 2) is made NaN.
    result = subprocess.run(
        _command(prior_files, tmp_path, "--debug-nan-at-step", "170", "--epochs", "5"),
        env=_env(), capture_output=True, text=True, check=False,
    )
    assert result.returncode == EXIT_DIVERGED
    assert "non-finite loss = nan at epoch 2, step 170" in result.stderr
    assert not (tmp_path / "train.json").exists()
    # The last good checkpoint (end of epoch 1, step 150) is kept and is the latest.
    index = (tmp_path / "run" / "checkpoints" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "ckpt-150"' in index
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["epoch"].tolist() == [1]
