"""Readers for MNIST and Fashion-MNIST, which share the four-file IDX layout."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from igr.data.arrays import DatasetArrays
from igr.data.errors import FileFormatError
from igr.data.idx import idx_images, idx_labels

#: The four files of the IDX layout, as distributed (gzip-compressed).
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"
IDX_FILE_NAMES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)


def read_idx_dataset(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    """uint8 images (N, 28, 28, 1) and int64 labels from the verified IDX contents."""
    del folder  # everything needed is in the verified contents

    def parse(name, parser):
        try:
            return parser(contents[name])
        except ValueError as exc:
            raise FileFormatError(name, str(exc)) from exc

    arrays = DatasetArrays(
        x_train=parse(TRAIN_IMAGES, idx_images),
        y_train=parse(TRAIN_LABELS, idx_labels),
        x_test=parse(TEST_IMAGES, idx_images),
        y_test=parse(TEST_LABELS, idx_labels),
    )
    for images_name, labels_name, images, labels in (
        (TRAIN_IMAGES, TRAIN_LABELS, arrays.x_train, arrays.y_train),
        (TEST_IMAGES, TEST_LABELS, arrays.x_test, arrays.y_test),
    ):
        if images.shape[0] != labels.shape[0]:
            raise FileFormatError(
                labels_name,
                f"holds {labels.shape[0]} labels for {images.shape[0]} images in {images_name}",
            )
    return arrays
