"""Checks of a stage's inputs, run before any work (TF-free): prior files, output paths.

Each check raises :class:`igr.errors.InputError` with a one-line message naming the file,
the option or the value at fault; the ``igr`` entry point prints it and exits 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from igr.errors import InputError
from igr.families import get_family


def check_output_path(path: Path | None, option: str) -> None:
    """``path`` (the value of ``option``) can be written as a file: not an existing folder."""
    if path is None:
        return
    if Path(path).is_dir():
        raise InputError(f"{option} {path}: is an existing folder, expected a file path")


def check_run_dir(path: Path, option: str = "--run-dir") -> None:
    """A run folder is a folder (or does not exist yet)."""
    if Path(path).exists() and not Path(path).is_dir():
        raise InputError(f"{option} {path}: exists and is not a folder")


def read_prior_file(
    path: Path, family: str, num_categories: int, num_variables: int | None = None
) -> dict[str, Any]:
    """Read and check the priors-stage file that a model of ``family`` with K categories reads.

    The file must be valid JSON written by ``igr learn-prior`` for the family's prior family
    (IGR-Planar: IGR-I's; truncated IGR-SB: IGR-SB's), for the same K, with finite parameter
    arrays of length K (GS logits) or K - 1 (loc, scale; scale > 0), or of shape [V, ...].
    """
    expected = get_family(family)
    where = f"--prior {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{where}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError(f"{where}: cannot be read ({error.__class__.__name__})") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where}: not valid JSON (truncated or corrupt?): {error}") from None
    if not isinstance(record, dict) or "prior_family" not in record:
        raise InputError(f"{where}: not a prior file of igr learn-prior (no 'prior_family')")
    if record["prior_family"] != expected.prior_family:
        raise InputError(
            f"{where}: holds a {record['prior_family']} prior, but family {family} reads "
            f"the {expected.prior_family} prior"
        )
    if record.get("num_categories") != num_categories:
        raise InputError(
            f"{where}: is for K = {record.get('num_categories')}, but the model has "
            f"K = {num_categories} (--num-categories)"
        )
    length = expected.prior_length(num_categories)
    for key in expected.prior_parameters:
        values = record.get(key)
        if not isinstance(values, list) or not values:
            raise InputError(f"{where}: has no parameter array '{key}'")
        rows = values if isinstance(values[0], list) else [values]
        if isinstance(values[0], list) and num_variables is not None and len(rows) != num_variables:
            raise InputError(
                f"{where}: '{key}' has {len(rows)} rows, but the model has "
                f"V = {num_variables} variables (--num-variables)"
            )
        for row in rows:
            if not isinstance(row, list) or len(row) != length:
                raise InputError(
                    f"{where}: '{key}' must hold {length} values for K = {num_categories}"
                )
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in row):
                raise InputError(f"{where}: '{key}' holds a non-finite or non-numeric value")
            if key == "scale" and not all(v > 0 for v in row):
                raise InputError(f"{where}: 'scale' must be > 0")
    return record


def _read_json_record(path: Path, where: str, what: str) -> Any:
    """The JSON in ``path``; one-line InputErrors (``where: no such <what>``) otherwise."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{where}: no such {what}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{where}: not a readable {what} ({error})") from None


def read_train_record(path: Path) -> dict[str, Any]:
    """A train record of ``igr vae train`` or ``igr sop train``, checked before evaluation."""
    record = _read_json_record(path, str(path), "train record")
    if not isinstance(record, dict) or "fingerprint" not in record or "run_dir" not in record:
        raise InputError(
            f"{path}: not a train record of this igr (no fingerprint); retrain to make one"
        )
    return record


def add_temperature_options(parser, help_suffix: str = "") -> None:
    """``--temperature TAU`` or ``--temperature-file FILE`` (one of them, required)."""
    from igr.experiments._common import positive_float

    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--temperature", type=positive_float, help=f"tau{help_suffix}")
    group.add_argument(
        "--temperature-file",
        type=Path,
        help="JSON of igr calibrate-temperature for this family and K (a calibrated tau)",
    )


def resolve_temperature(args, family: str, num_categories: int) -> tuple[float, dict[str, Any]]:
    """``(tau, source)`` from ``--temperature`` or ``--temperature-file`` (checked: the file
    is a calibration of ``family`` for K = ``num_categories``). ``source`` goes into records."""
    path = getattr(args, "temperature_file", None)
    if path is None:
        return float(args.temperature), {"kind": "given"}
    where = f"--temperature-file {path}"
    calibration = read_calibration(path, where)
    if calibration["family"] != family or calibration["num_categories"] != num_categories:
        raise InputError(
            f"{where}: calibrates {calibration['family']} with K = "
            f"{calibration['num_categories']}, but this run is {family} with K = {num_categories}"
        )
    return calibration["temperature"], calibration["source"]


def read_calibration(path, where: str) -> dict[str, Any]:
    """A record of ``igr calibrate-temperature``, checked: ``{"family", "num_categories",
    "temperature", "source"}`` (``source``: file, sha256, rule, fraction reached, for records)."""
    record = _read_json_record(path, where, "calibration record")
    if not isinstance(record, dict) or "temperature" not in record or "rule" not in record:
        raise InputError(f"{where}: not a record of igr calibrate-temperature")
    tau = record["temperature"]
    if not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau <= 0:
        raise InputError(f"{where}: temperature {tau!r} is not a positive number")
    from igr.training.run_folder import sha256_of_file

    source = {
        "kind": "calibrated",
        "file": str(path),
        "sha256": sha256_of_file(path),
        "rule": record["rule"],
        "fraction_reached": record.get("fraction_reached"),
    }
    return {
        "family": record.get("family"),
        "num_categories": record.get("num_categories"),
        "temperature": float(tau),
        "source": source,
    }
