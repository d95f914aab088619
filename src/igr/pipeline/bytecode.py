"""igr's bytecode, written once per pipeline run before the first job (``onstart``).

Every job is a new Python process that imports part of igr. Python caches compiled modules
in ``__pycache__``, but not when bytecode writing is off (``PYTHONDONTWRITEBYTECODE``, as in
CI containers and on this project's machines), and an editable install (``pip install -e``)
or a source checkout on ``PYTHONPATH`` has no cache to begin with: then each job compiled the
igr modules it imports again: about 10 s of the default pipeline's job time on the 2-core
CPU, 0.3 s a job (README, "Benchmarks"). :func:`compile_igr` writes the cache explicitly (``compileall`` writes
whatever the setting), skipping modules whose cache is current. Python checks each cached
file against its source's modification time and size, so an edited module is compiled
afresh, never run stale.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import igr


def package_dir() -> Path:
    """The folder of the imported igr package (the one the jobs import, outside conda)."""
    return Path(igr.__file__).resolve().parent


def compile_igr(folder: Path | None = None) -> bool:
    """Byte-compile every module below ``folder`` (default: igr's); False when some could
    not be written (a read-only install, which pip compiled already) or failed to compile,
    which only costs the jobs their compile time."""
    return bool(compileall.compile_dir(folder or package_dir(), quiet=2, workers=1))
