"""SOP training and evaluation through the stage: loss decreases, resume after a kill,
stale run folders, evaluation record, table and claim."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from igr.experiments import sop
from igr.reporting.sop import claim_check, sop_table_rows, summarize_sop


def _settings(family: str, **changes):
    settings = {
        "family": family,
        "dataset": "digits",
        "hidden_units": 16,
        "temperature": 0.5,
        "planar_layers": 2,
        "epochs": 6,
        "batch_size": 50,
        "learning_rate": 2e-3,
        "learning_rate_decay": 1e-3,
        "learning_rate_floor": 1e-4,
        "seed": 11,
    }
    settings.update(changes)
    return settings


@pytest.mark.parametrize("family", sop.SOP_FAMILIES)
def test_training_decreases_the_loss_for_every_family(family, tmp_path):
    record = sop.train(_settings(family), tmp_path / "run", None, checkpoint_every=3)
    losses = [row["loss"] for row in record["history"]]
    assert len(losses) == 6
    # 32 lower pixels: an untrained net starts near 32 log 2 = 22 nats; 6 epochs get well below
    assert losses[0] > 18.0
    assert losses[-1] < losses[0] - 4.0, losses
    assert record["resumed_from_epoch"] == 0
    assert Path(record["checkpoint"]).name.startswith("ckpt-")


def _command(folder: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "igr",
        "sop",
        "train",
        "--family",
        "igr_i",
        "--dataset",
        "digits",
        "--hidden-units",
        "16",
        "--temperature",
        "0.5",
        "--epochs",
        "3",
        "--batch-size",
        "5",
        "--seed",
        "7",
        "--checkpoint-every",
        "1",
        "--threads",
        "1",
        "--run-dir",
        str(folder / "run"),
        "--output",
        str(folder / "train.json"),
        "--evaluation-output",
        str(folder / "evaluation.json"),
        "--num-samples",
        "50",
        "--eval-batch-size",
        "100",
        "--eval-examples",
        "100",
        "--num-predictions",
        "2",
        *extra,
    ]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def test_resume_after_a_kill_matches_an_uninterrupted_run(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    done = subprocess.run(
        _command(reference), check=False, env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

    # SIGKILL in the middle of epoch 2 (300 steps per epoch), at a state the trainer marks
    # (its pause hook), never after a sleep: no record.
    marker = killed / "run" / "paused-at-step-450"
    process = subprocess.Popen(
        _command(killed),
        env=dict(_env(), IGR_TEST_PAUSE_AT="step:450"),
        stderr=subprocess.PIPE,
    )
    started = time.monotonic()
    while not marker.exists():
        assert process.poll() is None, "training ended before step 450"
        assert time.monotonic() - started < 300
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "train.json").exists()
    rerun = subprocess.run(
        _command(killed), check=False, env=_env(), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr

    first = json.loads((reference / "train.json").read_text())
    second = json.loads((killed / "train.json").read_text())
    assert second["resumed"] is True and second["resumed_from_epoch"] >= 1
    assert first["resumed_from_epoch"] == 0
    # bit-identical on the CPU: every epoch's loss and the test evaluation
    assert second["history"] == first["history"]
    for name in ("test_loss", "test_loss_relaxed_one_sample", "predicted_lower"):
        a = json.loads((reference / "evaluation.json").read_text())[name]
        b = json.loads((killed / "evaluation.json").read_text())[name]
        assert a == b, name

    # igr sop evaluate on the record reproduces the evaluation written by train
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "igr",
            "sop",
            "evaluate",
            "--train-record",
            str(reference / "train.json"),
            "--num-samples",
            "50",
            "--eval-batch-size",
            "100",
            "--eval-examples",
            "100",
            "--num-predictions",
            "2",
            "--output",
            str(tmp_path / "e.json"),
        ],
        check=False,
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    evaluation = json.loads((tmp_path / "e.json").read_text())
    written = json.loads((reference / "evaluation.json").read_text())
    # provenance names the checkout at the time of each command (commit, dirty flag)
    assert set(evaluation.pop("provenance")) == set(written.pop("provenance"))
    assert evaluation == written
    assert evaluation["test_examples"] == 100 and evaluation["num_samples"] == 50
    assert np.asarray(evaluation["predicted_lower"]).shape == (2, 32)
    assert np.asarray(evaluation["truth"]).shape == (2, 64)


def test_more_epochs_extend_a_run_and_other_settings_start_fresh(tmp_path):
    run = tmp_path / "run"
    first = sop.train(_settings("gs", epochs=1), run, None, checkpoint_every=1)
    assert first["run_start"]["action"] == "fresh"
    extended = sop.train(_settings("gs", epochs=2), run, None, checkpoint_every=1)
    assert extended["run_start"]["action"] == "resumed" and extended["resumed_from_epoch"] == 1
    assert extended["fingerprint"] == first["fingerprint"]
    assert extended["history"][0] == first["history"][0]
    changed = sop.train(_settings("gs", epochs=2, temperature=0.25), run, None, checkpoint_every=1)
    assert changed["run_start"]["action"] == "restarted" and changed["resumed_from_epoch"] == 0
    assert changed["run_start"]["differences"] == ["temperature: 0.5 -> 0.25"]
    assert len(list(tmp_path.glob("run.stale-*"))) == 1
    assert json.loads((run / "fingerprint.json").read_text())["settings"]["temperature"] == 0.25


def _evaluation(family, seed, loss):
    return {
        "settings": {
            "dataset": "digits",
            "family": family,
            "seed": seed,
            "temperature": 0.5,
        },
        "test_loss": loss,
        "test_loss_relaxed_one_sample": loss + 0.5,
        "final_train_loss": loss + 1.0,
        "num_samples": 1000,
        "test_examples": 297,
        "image_shape": [8, 8, 1],
        "truth": np.zeros((2, 64)).tolist(),
        "predicted_lower": np.full((2, 32), 0.5).tolist(),
    }


def test_table_over_seeds_and_claim(tmp_path):
    evaluations = [
        _evaluation("gs", 1, 12.0),
        _evaluation("gs", 2, 12.4),
        _evaluation("igr_i", 2, 10.5),
        _evaluation("igr_i", 1, 10.1),
        _evaluation("igr_sb", 1, 12.3),
        _evaluation("igr_sb", 2, 12.1),
    ]
    rows = sop_table_rows(evaluations)
    assert [row["family"] for row in rows] == ["gs", "igr_i", "igr_sb"]
    assert rows[0]["test_loss_mean"] == pytest.approx(12.2)
    assert rows[0]["test_loss_sd"] == pytest.approx(np.std([12.0, 12.4], ddof=1))
    assert rows[1]["test_loss_per_seed"] == "10.1000 10.5000"  # sorted by seed
    assert [row["best"] for row in rows] == [False, True, False]
    verdict = claim_check(rows)  # best IGR: IGR-I 10.3 against GS 12.2, sd 0.28
    assert verdict["verdict"] == "supported", verdict
    assert "IGR-I 10.300" in verdict["reason"] and "IGR-SB 12.200" in verdict["reason"]
    assert "2 seeds" not in verdict["scale"] and "seeds per family 2" in verdict["scale"]
    assert claim_check([rows[0], rows[2]])["verdict"] == "inconclusive"  # within the sd
    worse = claim_check([rows[0], rows[2] | {"test_loss_mean": 13.0}])
    assert worse["verdict"] == "contradicted"
    one_seed = [row | {"num_seeds": 1, "test_loss_sd": 0.0} for row in rows[:2]]
    assert claim_check(one_seed)["verdict"] == "inconclusive"
    assert "at least 2 needed" in claim_check(one_seed)["reason"]
    assert claim_check(rows[1:])["verdict"] == "not assessable"

    paths = []
    for index, record in enumerate(evaluations):
        path = tmp_path / f"e{index}.json"
        path.write_text(json.dumps(record))
        paths.append(str(path))
    table, figure, claim = tmp_path / "t.csv", tmp_path / "f.png", tmp_path / "c.csv"
    summarize_sop(paths, table, figure, claim)
    import pandas as pd

    assert pd.read_csv(table)["num_seeds"].tolist() == [2, 2, 2]
    assert pd.read_csv(claim)["verdict"].item() == "supported"
    assert figure.stat().st_size > 5_000
