"""Make a dataset present and verified in the data directory, downloading what is missing.

A file that is already present and verifies is never fetched again, so fetching is cheap to
repeat and works on a read-only copy that is complete (``IGR_DATA_DIR=/shared/data``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from igr.data.download import RetryPolicy, download_file
from igr.data.errors import DatasetError
from igr.data.loading import (
    CORRUPTED,
    FileStatus,
    advice_for,
    read_and_inspect,
    verify_dataset,
)
from igr.data.paths import resolve_data_dir
from igr.data.registry import DatasetSpec, get_spec


@dataclass(frozen=True)
class FetchOutcome:
    """What :func:`fetch_dataset` did for one file."""

    name: str
    path: Path
    action: str  # "already verified" or "downloaded"
    sha256: str | None
    size: int | None


def _log(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr)


def fetch_dataset(
    name: str | DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    policy: RetryPolicy = RetryPolicy(),
    progress: bool = True,
    quiet: bool = False,
) -> list[FetchOutcome]:
    """Download every missing or damaged file of a dataset, then verify the whole dataset.

    Raises :class:`~igr.data.errors.DatasetError` when a file cannot be obtained (no
    internet, a dataset that must be downloaded by hand, a checksum mismatch).
    """
    spec = get_spec(name)
    root = resolve_data_dir(data_dir)
    folder = spec.folder_in(root)
    outcomes: list[FetchOutcome] = []
    for file in spec.files:
        status, _ = read_and_inspect(file, folder)
        if status.usable:
            _log(f"{status.path}: present, {status.state}", quiet)
            outcomes.append(_outcome(status, "already verified"))
            continue
        if not file.urls:
            raise DatasetError(
                f"Dataset {spec.name!r}: file {status.path} {status.problem}. "
                f"{advice_for(spec, root)}"
            )
        if status.state == CORRUPTED:
            _log(f"{status.path} {status.problem}; downloading a fresh copy", quiet)
        path = download_file(file, folder, policy=policy, progress=progress and not quiet)
        status, _ = read_and_inspect(file, folder)
        if not status.usable or status.path != path:
            raise DatasetError(
                f"Dataset {spec.name!r}: {path} was downloaded and verified, but "
                f"{status.path} {status.problem or 'takes precedence'}; remove it and retry."
            )
        _log(f"{path}: downloaded, {status.state}", quiet)
        outcomes.append(_outcome(status, "downloaded"))
    verify_dataset(spec, root)  # e.g. a bundled dataset's package must import
    return outcomes


def _outcome(status: FileStatus, action: str) -> FetchOutcome:
    digest = status.digest
    return FetchOutcome(
        name=status.file.name,
        path=status.path,
        action=action,
        sha256=digest.sha256 if digest else None,
        size=digest.size if digest else None,
    )


def write_manifest(
    path: Path, spec: DatasetSpec, data_dir: Path, outcomes: list[FetchOutcome]
) -> None:
    """A small JSON record of the verified files (an output for a pipeline rule), written atomically."""
    record = {
        "dataset": spec.name,
        "data_dir": str(Path(data_dir).resolve()),
        "files": [
            {
                "name": o.name,
                "path": str(o.path.resolve()),
                "sha256_of_content": o.sha256,
                "content_bytes": o.size,
            }
            for o in outcomes
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
