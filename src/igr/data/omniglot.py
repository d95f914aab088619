"""Reader for Omniglot in the 28x28 split of Burda et al. (2016), file ``chardata.mat``.

The file, from https://github.com/yburda/iwae (``datasets/OMNIGLOT/chardata.mat``), is a
MATLAB v5 file. The keys used here:

- ``data`` (784, 24345) and ``testdata`` (784, 8070): one image per column, grey levels in
  [0, 1]. Each column is a 28x28 image flattened in MATLAB's column-major order, so it is
  reshaped with ``order="F"`` to stand upright (the same as the IWAE code's
  ``reshape((-1, 28, 28)).reshape((-1, 784), order="fortran")``).
- ``target`` (50, N) and ``testtarget``: one-hot alphabet of each image; the label returned
  here is the alphabet index 0..49.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays
from igr.data.errors import FileFormatError

FILE_NAME = "chardata.mat"
IMAGE_SIDE = 28
NUM_ALPHABETS = 50


def _split(mat: dict, images_key: str, targets_key: str) -> tuple[np.ndarray, np.ndarray]:
    for key in (images_key, targets_key):
        if key not in mat:
            raise FileFormatError(FILE_NAME, f"has no variable {key!r}")
    columns = np.asarray(mat[images_key])
    if columns.ndim != 2 or columns.shape[0] != IMAGE_SIDE * IMAGE_SIDE:
        raise FileFormatError(
            FILE_NAME, f"variable {images_key!r} has shape {columns.shape}, expected (784, N)"
        )
    num_images = columns.shape[1]
    images = columns.T.reshape(num_images, IMAGE_SIDE, IMAGE_SIDE, order="F")
    images = images.astype(np.float32)[..., np.newaxis]
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise FileFormatError(FILE_NAME, f"variable {images_key!r} holds values outside [0, 1]")
    targets = np.asarray(mat[targets_key])
    if targets.ndim == 2 and targets.shape[1] == num_images and targets.shape[0] > 1:
        labels = targets.argmax(axis=0)
    elif targets.size == num_images:
        labels = targets.reshape(-1)
    else:
        raise FileFormatError(
            FILE_NAME,
            f"variable {targets_key!r} has shape {targets.shape}, expected one-hot (50, {num_images})",
        )
    return images, labels.astype(np.int64)


def parse_chardata(content: bytes) -> DatasetArrays:
    """float32 images (N, 28, 28, 1) in [0, 1] and alphabet labels from ``chardata.mat`` bytes."""
    import scipy.io  # imported here: only this reader needs it

    try:
        mat = scipy.io.loadmat(io.BytesIO(content))
    except Exception as exc:  # scipy raises several types for a damaged file
        raise FileFormatError(FILE_NAME, f"is not a readable MATLAB file ({exc})") from exc
    x_train, y_train = _split(mat, "data", "target")
    x_test, y_test = _split(mat, "testdata", "testtarget")
    return DatasetArrays(x_train, y_train, x_test, y_test)


def read_omniglot(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    del folder
    return parse_chardata(contents[FILE_NAME])


def check_chardata(content: bytes) -> None:
    """Format check used in place of a checksum: the file parses and has both splits."""
    parse_chardata(content)
