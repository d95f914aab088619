"""Settings-bound resume: a run folder resumes only a run of the same fingerprint.

A trained stage (VAE, SOP) keeps its checkpoints in a run folder. The folder records in
``fingerprint.json`` the settings that define its result (model, optimiser, temperature,
seed, the sha256 of the prior file's content, the sha256 of the data arrays, code options
such as XLA) and their fingerprint, the sha256 of their canonical JSON. The number of
epochs, the checkpoint cadence, threads and paths are left out: more epochs extend a run.

:func:`prepare_run_folder` decides, before training starts:

- **fresh**: no checkpoint in the folder (leftovers of a run that never saved are removed);
- **resumed**: a checkpoint and the same fingerprint: training continues from it (unless the
  folder already holds more epochs than asked for: then it is restarted as below);
- **restarted**: a checkpoint of another fingerprint (or of none): the old folder is moved
  aside to ``<run>.stale-<UTC time>`` (at most one such folder is kept) and training starts
  fresh. The differing settings are listed.

TensorFlow is not imported here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from igr.io import write_json_atomic

FINGERPRINT_FILE = "fingerprint.json"
#: The file ``tf.train.CheckpointManager`` keeps in the checkpoint folder.
CHECKPOINT_INDEX = Path("checkpoints") / "checkpoint"
FRESH, RESUMED, RESTARTED = "fresh", "resumed", "restarted"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal settings give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def fingerprint_of(settings: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of ``settings``."""
    return hashlib.sha256(canonical_json(settings).encode()).hexdigest()


def sha256_of_file(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes (a prior file: its content, not its path)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sha256_of_arrays(*arrays) -> str:
    """sha256 (hex) of numpy arrays: dtype, shape and bytes of each, in order."""
    import numpy as np

    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        digest.update(f"{array.dtype.str}{tuple(array.shape)};".encode())
        digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def data_identity(dataset: str, data) -> dict[str, str]:
    """What a run trained on, independent of where the files live: the dataset's name and the
    sha256 of its preprocessed train and test images (``data.x_train``, ``data.x_test``)."""
    return {"dataset": dataset, "sha256_of_arrays": sha256_of_arrays(data.x_train, data.x_test)}


def check_same_data(record_name: str, trained_on: dict[str, str], dataset: str, data) -> None:
    """Raise :class:`igr.errors.InputError` unless ``data`` is what the run trained on."""
    from igr.errors import InputError

    if data_identity(dataset, data) != trained_on:
        raise InputError(
            f"{record_name}: the {dataset} data found now differs from the data it was "
            f"trained on (sha256 of the arrays {trained_on['sha256_of_arrays'][:12]})"
        )


@dataclass(frozen=True)
class RunStart:
    """What :func:`prepare_run_folder` decided, for the job log and the run record."""

    action: str
    fingerprint: str
    differences: list[str] = field(default_factory=list)
    stale_folder: str | None = None

    def describe(self) -> str:
        """One line for the job log."""
        if self.action == RESUMED:
            return f"run folder: resuming (same settings, fingerprint {self.fingerprint[:12]})"
        if self.action == FRESH:
            return f"run folder: starting fresh (fingerprint {self.fingerprint[:12]})"
        return (
            f"run folder: settings differ from its checkpoint's ({'; '.join(self.differences)}); "
            f"old run moved to {self.stale_folder}, starting fresh "
            f"(fingerprint {self.fingerprint[:12]})"
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "differences": list(self.differences),
            "stale_folder": self.stale_folder,
        }


def _flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``"model.temperature: 0.5 -> 0.3"`` for every setting that differs (dotted keys)."""
    old, new = _flatten(old), _flatten(new)
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key, "<unset>") != new.get(key, "<unset>"):
            changes.append(f"{key}: {old.get(key, '<unset>')} -> {new.get(key, '<unset>')}")
    return changes


def recorded_fingerprint(run_dir: str | Path) -> dict[str, Any] | None:
    """The ``fingerprint.json`` of a run folder, or None when it has none (or it is unreadable)."""
    path = Path(run_dir) / FINGERPRINT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _move_aside(run_dir: Path) -> Path:
    """Move ``run_dir`` to ``<name>.stale-<UTC time>``, removing older stale copies first."""
    for old in run_dir.parent.glob(f"{run_dir.name}.stale-*"):
        shutil.rmtree(old, ignore_errors=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    stale = run_dir.with_name(f"{run_dir.name}.stale-{stamp}")
    run_dir.rename(stale)
    return stale


def completed_epochs(run_dir: str | Path) -> int:
    """Epochs the run folder's ``history.csv`` lists (0 without one)."""
    import csv

    try:
        with open(Path(run_dir) / "history.csv", newline="") as handle:
            epochs = [int(float(row["epoch"])) for row in csv.DictReader(handle)]
    except (OSError, KeyError, ValueError):
        return 0
    return max(epochs, default=0)


def prepare_run_folder(
    run_dir: str | Path, settings: dict[str, Any], epochs: int | None = None
) -> RunStart:
    """Make ``run_dir`` hold a run of ``settings``: fresh, resumed or restarted (module doc).

    With ``epochs``, a run of the same fingerprint that already went past that many epochs
    is not resumed either (training cannot be undone): it is moved aside as well.
    """
    run_dir = Path(run_dir)
    fingerprint = fingerprint_of(settings)
    has_checkpoint = (run_dir / CHECKPOINT_INDEX).is_file()
    recorded = recorded_fingerprint(run_dir) if has_checkpoint else None
    same = recorded is not None and recorded.get("fingerprint") == fingerprint
    done = completed_epochs(run_dir) if same and epochs is not None else 0
    if same and (epochs is None or done <= epochs):
        return RunStart(RESUMED, fingerprint)
    if has_checkpoint:
        if same:
            differences = [f"epochs: the run folder has {done}, more than the {epochs} asked for"]
        elif recorded is not None:
            differences = _differences(recorded.get("settings", {}), settings)
        else:
            differences = ["no fingerprint recorded (a run of an older igr)"]
        stale = _move_aside(run_dir)
        start = RunStart(RESTARTED, fingerprint, differences or ["fingerprint"], str(stale))
    else:
        if run_dir.exists():  # leftovers of a run that never saved a checkpoint
            shutil.rmtree(run_dir)
        start = RunStart(FRESH, fingerprint)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        run_dir / FINGERPRINT_FILE, {"fingerprint": fingerprint, "settings": settings}
    )
    return start


def check_run_matches(run_dir: str | Path, fingerprint: str, record_name: str) -> None:
    """Raise :class:`igr.errors.InputError` unless ``run_dir`` holds a run of ``fingerprint``.

    Evaluation calls it so that a train record is never evaluated on a checkpoint that was
    trained under other settings.
    """
    from igr.errors import InputError

    recorded = recorded_fingerprint(run_dir)
    if recorded is None or not (Path(run_dir) / CHECKPOINT_INDEX).is_file():
        raise InputError(
            f"{record_name}: its run folder {run_dir} holds no fingerprinted checkpoint; "
            "retrain (igr ... train)"
        )
    if recorded.get("fingerprint") != fingerprint:
        raise InputError(
            f"{record_name}: trained under fingerprint {str(fingerprint)[:12]}, but its run "
            f"folder {run_dir} now holds a run of fingerprint "
            f"{str(recorded.get('fingerprint'))[:12]}; retrain before evaluating"
        )
