"""The container every reader and loader returns: train and test images with labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DatasetArrays:
    """Train and test splits as numpy arrays.

    Images have shape ``(N, H, W, C)`` (``C = 1`` for greyscale, 3 for RGB), or ``(N, H*W*C)``
    when flattened. Labels are int64 class indices of shape ``(N,)``, or ``None`` for a
    dataset without classes (CelebA).
    """

    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None

    def __iter__(self):
        """Unpack as ``x_train, y_train, x_test, y_test = arrays``."""
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))

    @property
    def num_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def num_test(self) -> int:
        return int(self.x_test.shape[0])
