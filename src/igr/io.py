"""Atomic file output for pipeline stages.

Every file a stage writes goes first to a temporary file in the destination folder and is
then moved into place with :func:`os.replace`, which is atomic on POSIX file systems. A
reader (another job, or Snakemake checking outputs) therefore sees either no file or the
complete file, never a half-written one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` if the block succeeds.

    The temporary name keeps the suffix of ``path`` so that writers that infer the format
    from the extension (matplotlib's ``savefig``) behave as for the final name. On error the
    temporary file is removed and ``path`` is left untouched.
    """
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=f".tmp{destination.suffix}", dir=destination.parent
    )
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.chmod(temporary_path, 0o644)
        os.replace(temporary_path, destination)
    finally:
        temporary_path.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as indented JSON (keys in insertion order) to ``path`` atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=True) + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by :func:`write_json_atomic`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_csv_atomic(path: str | os.PathLike[str], frame: Any) -> None:
    """Write a pandas ``DataFrame`` to ``path`` as CSV (no index) atomically."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=False)
