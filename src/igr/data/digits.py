"""The 8x8 handwritten digits bundled with scikit-learn: the offline default dataset.

1,797 images with grey levels 0..16 (UCI "Optical Recognition of Handwritten Digits").
The split is deterministic and needs no seed: the first 1,500 images (in the order
``sklearn.datasets.load_digits`` returns them) are the training set, the remaining 297 the
test set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays

NUM_TRAIN = 1500
MAX_GREY_LEVEL = 16.0


def read_digits(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    """float32 images (N, 8, 8, 1) scaled to [0, 1] and int64 labels."""
    del folder, contents  # the data ships inside the scikit-learn wheel
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / MAX_GREY_LEVEL)[..., np.newaxis]
    labels = bunch.target.astype(np.int64)
    return DatasetArrays(
        x_train=images[:NUM_TRAIN],
        y_train=labels[:NUM_TRAIN],
        x_test=images[NUM_TRAIN:],
        y_test=labels[NUM_TRAIN:],
    )
