"""The data of a pipeline run: where it lives (not a rerun trigger) and what it is (one).

Jobs find the data directory through the ``IGR_DATA_DIR`` environment variable, which the
Snakefile sets from :func:`pipeline_data_dir`; no rule has it in its params, so moving the
data folder (or setting ``IGR_DATA_DIR`` to another copy) plans no job. The identity of a
dataset's content is the registered sha256 of its files (:func:`dataset_identity`), which
``fetch_data`` takes as params: other checksums rerun the fetch and everything after it.
Training records the sha256 of the arrays it actually read (igr.training.run_folder).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from igr.data.paths import DATA_DIR_ENV_VAR, resolve_data_dir
from igr.data.registry import get_spec


def pipeline_data_dir(config: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> Path:
    """``data.dir`` of the config, else ``$IGR_DATA_DIR``, else ``resources/data``, absolute.

    The same order as ``igr data`` (:func:`igr.data.paths.resolve_data_dir`), with the
    environment passed in (``environ``) so that it can be tested.
    """
    return resolve_data_dir(config.get("data", {}).get("dir"), environ).absolute()


def dataset_identity(dataset: str) -> str:
    """The registered checksums of a dataset's files, as one deterministic string.

    ``mnist:train-images-idx3-ubyte.gz=ba89...,...``; a bundled dataset (digits) is named by
    its package; a file with no registered sha256 by its name and ``format-checked``.
    """
    spec = get_spec(dataset)
    if not spec.files:
        return f"{spec.name}:bundled-with-{spec.bundled_with}"
    parts = [f"{file.name}={file.sha256 or 'format-checked'}" for file in spec.files]
    return f"{spec.name}:" + ",".join(parts)


def needs_files(dataset: str) -> bool:
    """True when the dataset is read from files in the data directory (not bundled)."""
    return bool(get_spec(dataset).files) or get_spec(dataset).check_folder is not None


def data_dir_problems(
    datasets_by_key: Mapping[str, list[str]],
    config: Mapping[str, Any],
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """A data folder that was named (``data.dir`` or ``IGR_DATA_DIR``) but does not exist,
    while a configured stage needs a dataset from it; one message per stage key."""
    named_by = "data.dir" if config.get("data", {}).get("dir") else (
        DATA_DIR_ENV_VAR if environ.get(DATA_DIR_ENV_VAR) else None
    )
    if named_by is None:  # the default folder: fetch_data creates it and downloads
        return []
    folder = pipeline_data_dir(config, environ)
    if folder.is_dir():
        return []
    problems = []
    for key, datasets in datasets_by_key.items():
        wanted = sorted({d for d in datasets if needs_files(d)})
        if wanted:
            where = f"config key '{named_by}'" if named_by == "data.dir" else named_by
            problems.append(
                f"{where}: data folder {folder} does not exist, but {key} needs "
                f"{', '.join(wanted)} from it"
            )
    return problems
