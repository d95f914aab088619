"""The training loop through ``igr vae train``: resume after SIGKILL and SIGTERM at known
states (the trainer's pause hook, never a sleep), settings-bound resume, NaN stop."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from igr.training import EXIT_DIVERGED, EXIT_PREEMPTED
from igr.training.preemption import PAUSE_AT_ENV_VAR, pause_marker

#: 2 epochs of 150 steps (digits, batch 10); step 170 lies in the middle of epoch 2, and
#: in the middle of the KL warm-up (so a resume must restore the weight's step too).
EPOCHS, STEPS_PER_EPOCH, MID_EPOCH_STEP, KL_WARMUP_STEPS = 2, 150, 170, 200


def _command(prior_files, folder: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "igr", "vae", "train", "--dataset", "digits",
        "--architecture", "nonlinear", "--family", "igr_i", "--prior", str(prior_files["igr_i"]),
        "--temperature", "0.5", "--epochs", str(EPOCHS), "--batch-size", "10",
        "--learning-rate", "1e-3", "--seed", "7", "--threads", "1", "--eval-examples", "100",
        "--kl-warmup-steps", str(KL_WARMUP_STEPS),
        "--run-dir", str(folder / "run"), "--history", str(folder / "history.csv"),
        "--output", str(folder / "train.json"), *extra,
    ]


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _final(folder: Path):
    record = json.loads((folder / "train.json").read_text())
    history = pd.read_csv(folder / "history.csv")
    return record, history.drop(columns=["seconds"])


def _run(command, **env):
    return subprocess.run(command, env=_env(**env), capture_output=True, text=True, check=False)


def _signal_at(command, folder: Path, pause_at: str, signum) -> subprocess.CompletedProcess:
    """Run ``command`` until it reaches ``pause_at`` (its marker appears), then send ``signum``."""
    marker = pause_marker(folder / "run", pause_at)
    process = subprocess.Popen(
        command, env=_env(**{PAUSE_AT_ENV_VAR: pause_at}),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"ended (status {process.returncode}) before {pause_at}:\n"
                        f"{process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"never reached {pause_at}")
        time.sleep(0.02)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def reference(prior_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    result = _run(_command(prior_files, folder))
    assert result.returncode == 0, result.stderr
    assert "run folder: starting fresh" in result.stderr
    return _final(folder)


def _assert_identical(folder: Path, reference):
    record, history = _final(folder)
    reference_record, reference_history = reference
    # Bit-identical on the CPU: exact equality of losses and test ELBOs of every epoch.
    assert record["final"]["loss"] == reference_record["final"]["loss"]
    assert record["final"]["test_elbo"] == reference_record["final"]["test_elbo"]
    assert record["fingerprint"] == reference_record["fingerprint"]
    pd.testing.assert_frame_equal(history, reference_history, check_exact=True)
    return record


#: IGR_TEST_REPEAT=10 runs the interruption tests ten times in a row (they must never flake).
REPEAT = range(int(os.environ.get("IGR_TEST_REPEAT", "1")))


@pytest.mark.parametrize("attempt", REPEAT)
def test_sigkill_mid_epoch_then_rerun_matches_uninterrupted_run(
    prior_files, tmp_path, reference, attempt
):
    killed = _signal_at(_command(prior_files, tmp_path), tmp_path, f"step:{MID_EPOCH_STEP}",
                        signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "train.json").exists()
    rerun = _run(_command(prior_files, tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    assert "run folder: resuming (same settings" in rerun.stderr
    record = _assert_identical(tmp_path, reference)
    assert record["training"]["resumed_from_epoch"] == 1
    assert record["run_start"]["action"] == "resumed"


def test_resume_is_bit_identical_in_graph_mode_too(prior_files, tmp_path, reference):
    """The reference runs with ``--jit auto`` (XLA for IGR-I, igr.families); ``--jit false``
    forces graph mode, which resumes bit-identically as well (and differs from XLA)."""
    assert reference[0]["training"]["jit_compile"] is True
    assert reference[0]["training"]["jit_setting"] == "auto"
    graph_reference = tmp_path / "graph_reference"
    graph_reference.mkdir()
    uninterrupted = _run(_command(prior_files, graph_reference, "--jit", "false"))
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    graph = _final(graph_reference)
    assert graph[0]["training"]["jit_compile"] is False
    killed = _signal_at(_command(prior_files, tmp_path, "--jit", "false"), tmp_path,
                        f"step:{MID_EPOCH_STEP}", signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    rerun = _run(_command(prior_files, tmp_path, "--jit", "false"))
    assert rerun.returncode == 0, rerun.stderr
    assert "run folder: resuming (same settings" in rerun.stderr
    _assert_identical(tmp_path, graph)


@pytest.mark.parametrize(
    ("pause_at", "checkpoint_step"),
    [
        pytest.param(f"step:{MID_EPOCH_STEP}", MID_EPOCH_STEP, id="mid-epoch"),
        pytest.param("evaluation:1", STEPS_PER_EPOCH, id="end-of-epoch-evaluation"),
        pytest.param("final-write", EPOCHS * STEPS_PER_EPOCH, id="final-write"),
    ],
)
@pytest.mark.parametrize("attempt", REPEAT)
def test_sigterm_saves_a_checkpoint_exits_75_and_resumes_identically(
    prior_files, tmp_path, reference, pause_at, checkpoint_step, attempt
):
    stopped = _signal_at(_command(prior_files, tmp_path), tmp_path, pause_at, signal.SIGTERM)
    assert stopped.returncode == EXIT_PREEMPTED, stopped.stderr
    assert "SIGTERM received" in stopped.stderr
    index = (tmp_path / "run" / "checkpoints" / "checkpoint").read_text()
    assert f'model_checkpoint_path: "ckpt-{checkpoint_step}"' in index
    resumed = _run(_command(prior_files, tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    _assert_identical(tmp_path, reference)


def test_changed_settings_start_fresh_and_more_epochs_resume(prior_files, tmp_path, reference):
    first = _run(_command(prior_files, tmp_path, "--epochs", "1"))
    assert first.returncode == 0, first.stderr
    # Only more epochs: the same run, extended.
    extended = _run(_command(prior_files, tmp_path))
    assert extended.returncode == 0, extended.stderr
    record = _assert_identical(tmp_path, reference)
    assert record["training"]["resumed_from_epoch"] == 1
    # Another learning rate: the old run is moved aside and training starts fresh.
    changed = _run(_command(prior_files, tmp_path, "--learning-rate", "2e-3"))
    assert changed.returncode == 0, changed.stderr
    assert "optimizer.learning_rate: 0.001 -> 0.002" in changed.stderr
    record, history = _final(tmp_path)
    assert record["training"]["resumed_from_epoch"] == 0
    assert record["run_start"]["action"] == "restarted"
    assert record["run_start"]["differences"] == ["optimizer.learning_rate: 0.001 -> 0.002"]
    assert record["training"]["learning_rate"] == 0.002
    assert record["training"]["kl_warmup_steps"] == KL_WARMUP_STEPS
    assert record["fingerprint_settings"]["kl_warmup_steps"] == KL_WARMUP_STEPS
    assert history["loss"].iloc[-1] != reference[1]["loss"].iloc[-1]
    stale = list(tmp_path.glob("run.stale-*"))
    assert len(stale) == 1 and (stale[0] / "checkpoints" / "checkpoint").exists()
    # The prior enters the fingerprint by its content, not its path.
    assert record["fingerprint_settings"]["prior_sha256"] == hashlib.sha256(
        prior_files["igr_i"].read_bytes()
    ).hexdigest()
    assert str(prior_files["igr_i"]) not in json.dumps(record["fingerprint_settings"])


def test_evaluate_refuses_a_record_whose_run_folder_was_retrained(prior_files, tmp_path):
    assert _run(_command(prior_files, tmp_path, "--epochs", "1")).returncode == 0
    old_record = tmp_path / "old-train.json"
    old_record.write_text((tmp_path / "train.json").read_text())
    retrained = _run(_command(prior_files, tmp_path, "--epochs", "1", "--temperature", "0.3"))
    assert retrained.returncode == 0, retrained.stderr
    evaluate = [sys.executable, "-m", "igr", "vae", "evaluate", str(old_record),
                "--num-importance-samples", "2", "--eval-examples", "20",
                "--output", str(tmp_path / "evaluation.json")]
    result = _run(evaluate)
    assert result.returncode == 2, result.stderr
    assert "trained under fingerprint" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "evaluation.json").exists()
    evaluate[evaluate.index(str(old_record))] = str(tmp_path / "train.json")
    result = _run(evaluate)
    assert result.returncode == 0, result.stderr
    evaluation = json.loads((tmp_path / "evaluation.json").read_text())
    assert evaluation["fingerprint"] == json.loads((tmp_path / "train.json").read_text())["fingerprint"]


def test_nan_stops_at_once_naming_epoch_and_step(prior_files, tmp_path):
    # 150 steps per epoch; the loss of global step 170 (epoch 2) is made NaN.
    result = _run(_command(prior_files, tmp_path, "--debug-nan-at-step", "170", "--epochs", "5"))
    assert result.returncode == EXIT_DIVERGED
    assert "non-finite loss = nan at epoch 2, step 170" in result.stderr
    assert not (tmp_path / "train.json").exists()
    # The last good checkpoint (end of epoch 1, step 150) is kept and is the latest.
    index = (tmp_path / "run" / "checkpoints" / "checkpoint").read_text()
    assert 'model_checkpoint_path: "ckpt-150"' in index
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["epoch"].tolist() == [1]


def test_only_xla_runs_name_their_noise_in_the_fingerprint():
    """Graph-mode runs keep the identity they had before the XLA noise pool; XLA runs,
    whose random numbers changed with it, name it (and so start afresh)."""
    from igr.experiments.vae import code_options

    assert code_options(False) == {"jit_compile": False}
    assert code_options(True) == {"jit_compile": True, "xla_noise": "uniform pool drawn in graph mode"}


def test_only_planar_runs_name_their_draws_in_the_fingerprint():
    """IGR-Planar's draws changed (Box-Muller base, one-pass lambda law): its VAE and SOP
    fingerprints name them, so an older IGR-Planar run folder starts afresh; the other
    families keep their identity."""
    from igr.experiments import sop
    from igr.experiments.vae import code_options

    assert code_options(False, "igr_i") == {"jit_compile": False}
    assert code_options(False, "igr_planar")["planar_draws"].startswith("Box-Muller")
    data = {"sha256": "0"}
    gs = sop.run_fingerprint_settings({"family": "gs", "epochs": 3}, data)
    planar = sop.run_fingerprint_settings({"family": "igr_planar", "epochs": 3}, data)
    assert gs == {"stage": "sop", "family": "gs", "data": data}
    assert planar["planar_draws"] == code_options(False, "igr_planar")["planar_draws"]
