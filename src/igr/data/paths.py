"""Where datasets live on disk.

The data directory is chosen, in order of precedence, from an explicit argument (a config
value or a ``--data-dir`` flag), the ``IGR_DATA_DIR`` environment variable, and the default
``resources/data`` relative to the current working directory. Each dataset has its own
folder below it (``mnist/``, ``fashion-mnist/``, ``omniglot/``, ``celeba/``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: Environment variable that points at the data directory.
DATA_DIR_ENV_VAR = "IGR_DATA_DIR"

#: Data directory used when neither an argument nor the environment variable names one.
DEFAULT_DATA_DIR = Path("resources") / "data"


def resolve_data_dir(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Return the data directory: ``explicit`` > ``$IGR_DATA_DIR`` > ``resources/data``.

    ``environ`` (default: the process environment) is where ``IGR_DATA_DIR`` is looked up.
    """
    if explicit not in (None, ""):
        return Path(explicit).expanduser()
    from_env = (os.environ if environ is None else environ).get(DATA_DIR_ENV_VAR, "")
    if from_env:
        return Path(from_env).expanduser()
    return DEFAULT_DATA_DIR
