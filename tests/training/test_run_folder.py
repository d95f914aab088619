"""Settings-bound resume (igr.training.run_folder): fresh, resumed, restarted; no TF."""

from __future__ import annotations

import json

import numpy as np
import pytest

from igr.errors import InputError
from igr.training.run_folder import (
    FINGERPRINT_FILE,
    FRESH,
    RESTARTED,
    RESUMED,
    check_run_matches,
    fingerprint_of,
    prepare_run_folder,
    sha256_of_arrays,
)

SETTINGS = {"model": {"temperature": 0.5, "family": "igr_i"}, "learning_rate": 1e-3, "seed": 7}


def _checkpoint(run):
    (run / "checkpoints").mkdir(parents=True, exist_ok=True)
    (run / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-10"\n')


def _with(**changes):
    settings = json.loads(json.dumps(SETTINGS))
    settings["model"].update(changes)
    return settings


def test_no_checkpoint_starts_fresh_and_records_the_fingerprint(tmp_path):
    run = tmp_path / "run"
    start = prepare_run_folder(run, SETTINGS)
    assert start.action == FRESH and start.fingerprint == fingerprint_of(SETTINGS)
    recorded = json.loads((run / FINGERPRINT_FILE).read_text())
    assert recorded == {"fingerprint": start.fingerprint, "settings": SETTINGS}
    # leftovers of a run that never saved a checkpoint are removed
    (run / "history.csv").write_text("epoch\n1\n")
    assert prepare_run_folder(run, _with(temperature=0.3)).action == FRESH
    assert not (run / "history.csv").exists()


def test_same_fingerprint_resumes_and_keeps_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    prepare_run_folder(run, SETTINGS)
    _checkpoint(run)
    start = prepare_run_folder(run, json.loads(json.dumps(SETTINGS)))  # equal, not identical
    assert start.action == RESUMED and start.differences == []
    assert (run / "checkpoints" / "checkpoint").exists()
    assert "resuming" in start.describe()


def test_other_settings_move_the_run_aside_and_name_what_differs(tmp_path):
    run = tmp_path / "run"
    prepare_run_folder(run, SETTINGS)
    _checkpoint(run)
    start = prepare_run_folder(run, _with(temperature=0.3))
    assert start.action == RESTARTED
    assert start.differences == ["model.temperature: 0.5 -> 0.3"]
    assert "model.temperature: 0.5 -> 0.3" in start.describe()
    stale = tmp_path / start.stale_folder.split("/")[-1]
    assert stale.name.startswith("run.stale-")
    assert (stale / "checkpoints" / "checkpoint").exists()
    assert not (run / "checkpoints").exists()
    assert json.loads((run / FINGERPRINT_FILE).read_text())["settings"]["model"]["temperature"] == 0.3
    # a second restart keeps at most one stale folder
    _checkpoint(run)
    again = prepare_run_folder(run, _with(temperature=0.2))
    assert again.action == RESTARTED
    assert [p.name for p in tmp_path.glob("run.stale-*")] == [again.stale_folder.split("/")[-1]]


def test_fewer_epochs_than_the_folder_holds_restart_the_run(tmp_path):
    run = tmp_path / "run"
    prepare_run_folder(run, SETTINGS, epochs=3)
    _checkpoint(run)
    (run / "history.csv").write_text("epoch,step,loss\n1,10,2.0\n2,20,1.5\n3,30,1.2\n")
    assert prepare_run_folder(run, SETTINGS, epochs=3).action == RESUMED
    assert prepare_run_folder(run, SETTINGS, epochs=5).action == RESUMED
    start = prepare_run_folder(run, SETTINGS, epochs=2)
    assert start.action == RESTARTED
    assert start.differences == ["epochs: the run folder has 3, more than the 2 asked for"]


def test_a_checkpoint_without_fingerprint_is_not_resumed(tmp_path):
    run = tmp_path / "run"
    _checkpoint(run)
    start = prepare_run_folder(run, SETTINGS)
    assert start.action == RESTARTED
    assert "no fingerprint recorded" in start.differences[0]


def test_fingerprint_ignores_key_order_and_sees_every_value():
    reordered = {"seed": 7, "learning_rate": 1e-3, "model": {"family": "igr_i", "temperature": 0.5}}
    assert fingerprint_of(reordered) == fingerprint_of(SETTINGS)
    assert fingerprint_of(_with(temperature=0.5000001)) != fingerprint_of(SETTINGS)


def test_array_digest_depends_on_content_dtype_and_shape():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert sha256_of_arrays(a) == sha256_of_arrays(a.copy())
    assert sha256_of_arrays(a) != sha256_of_arrays(a.reshape(4, 3))
    assert sha256_of_arrays(a) != sha256_of_arrays(a.astype(np.float64))
    assert sha256_of_arrays(a[:, ::2]) == sha256_of_arrays(np.ascontiguousarray(a[:, ::2]))
    b = a.copy()
    b[2, 3] += 1
    assert sha256_of_arrays(b) != sha256_of_arrays(a)


def test_evaluation_refuses_a_run_folder_of_another_fingerprint(tmp_path):
    run = tmp_path / "run"
    first = prepare_run_folder(run, SETTINGS)
    _checkpoint(run)
    check_run_matches(run, first.fingerprint, "train.json")  # no error
    prepare_run_folder(run, _with(temperature=0.3))
    _checkpoint(run)
    with pytest.raises(InputError, match="train.json: trained under fingerprint"):
        check_run_matches(run, first.fingerprint, "train.json")
    with pytest.raises(InputError, match="holds no fingerprinted checkpoint"):
        check_run_matches(tmp_path / "missing", first.fingerprint, "train.json")
