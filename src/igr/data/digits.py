"""The 8x8 handwritten digits bundled with scikit-learn: the offline default dataset.

1,797 images with grey levels 0..16 (UCI "Optical Recognition of Handwritten Digits").
The split is deterministic and needs no seed: the first 1,500 images (in the order
``sklearn.datasets.load_digits`` returns them) are the training set, the remaining 297 the
test set.

The images are read from the CSV file inside the scikit-learn package (``datasets/data/
digits.csv.gz``: 64 grey levels and the label per row, which is all ``load_digits`` reads),
located without importing scikit-learn: the import alone costs about 1 s on the 2-core CPU,
once per job that loads the dataset. If that file is not where scikit-learn 1.x keeps it,
``load_digits`` is used instead.
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays

NUM_TRAIN = 1500
MAX_GREY_LEVEL = 16.0
#: Where scikit-learn keeps the digits, relative to its package folder.
BUNDLED_CSV = Path("datasets", "data", "digits.csv.gz")


def bundled_csv_path() -> Path | None:
    """The digits CSV inside the installed scikit-learn, or None (not installed, moved)."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, BUNDLED_CSV)
        if path.is_file():
            return path
    return None


def load_grey_levels() -> tuple[np.ndarray, np.ndarray]:
    """Images (1797, 8, 8) of grey levels 0..16 (float64) and labels, as ``load_digits``."""
    path = bundled_csv_path()
    if path is None:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.images, bunch.target
    with gzip.open(path, mode="rt", encoding="utf-8") as handle:
        rows = np.loadtxt(handle, delimiter=",")
    return rows[:, :-1].reshape(-1, 8, 8), rows[:, -1].astype(np.int64)


def read_digits(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    """float32 images (N, 8, 8, 1) scaled to [0, 1] and int64 labels."""
    del folder, contents  # the data ships inside the scikit-learn wheel
    grey_levels, labels = load_grey_levels()
    images = (grey_levels.astype(np.float32) / MAX_GREY_LEVEL)[..., np.newaxis]
    labels = labels.astype(np.int64)
    return DatasetArrays(
        x_train=images[:NUM_TRAIN],
        y_train=labels[:NUM_TRAIN],
        x_test=images[NUM_TRAIN:],
        y_test=labels[NUM_TRAIN:],
    )
