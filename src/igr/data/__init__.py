"""igr.data: the datasets of the paper, verified on disk, as numpy arrays or tf.data pipelines.

Modules, one job each:

- :mod:`~igr.data.registry`: every dataset's files (URLs, sha256 of the decompressed content,
  size), reader and default preprocessing;
- :mod:`~igr.data.paths`: the data directory (argument > ``$IGR_DATA_DIR`` > ``resources/data``);
- :mod:`~igr.data.loading`: verification (:class:`DatasetError` before any training) and
  :func:`load_arrays` (``x_train, y_train, x_test, y_test``);
- :mod:`~igr.data.download` and :mod:`~igr.data.fetch`: verified, resumable downloads;
- readers :mod:`~igr.data.idx`/:mod:`~igr.data.mnist`, :mod:`~igr.data.omniglot`,
  :mod:`~igr.data.celeba`, :mod:`~igr.data.digits`; :mod:`~igr.data.preprocessing`;
- :mod:`~igr.data.pipeline`: ``tf.data`` input pipelines (the only module importing TensorFlow);
- :mod:`~igr.data.cli`: ``igr data list|info|fetch``.

Images are float32 in [0, 1] with shape (N, H, W, C), C = 1 for greyscale (CelebA: uint8 by
default). The names below are imported lazily, so ``import igr.data`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "DATASETS": "igr.data.registry",
    "DatasetSpec": "igr.data.registry",
    "get_spec": "igr.data.registry",
    "DatasetArrays": "igr.data.arrays",
    "DatasetError": "igr.data.errors",
    "load_arrays": "igr.data.loading",
    "load_raw": "igr.data.loading",
    "verify_dataset": "igr.data.loading",
    "fetch_dataset": "igr.data.fetch",
    "resolve_data_dir": "igr.data.paths",
    "InputPipeline": "igr.data.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'igr.data' has no attribute {name!r}")
