"""Pixel preprocessing shared by every dataset, in a fixed order.

1. scale to float32 in [0, 1] (uint8 grey levels are divided by 255);
2. resize, if a different image size is asked for (antialiased bilinear, per image);
3. binarise at a threshold (pixel > 0.5 -> 1.0), for Bernoulli likelihoods;
4. flatten to (N, H*W*C), if asked.

Binarising after resizing matters (spec section 9: the reference code resized Omniglot
after binarising it, which blurs the binary images back into grey levels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINARIZE_THRESHOLD = 0.5


@dataclass(frozen=True)
class PreprocessOptions:
    """How to turn a dataset's stored pixels into model inputs.

    ``binarize``: threshold grey levels into {0, 1} (Bernoulli likelihood); otherwise keep
    grey levels in [0, 1] (Gaussian likelihood). ``image_size``: (height, width) to resize
    to, or None to keep the stored size. ``pixel_dtype``: "float32" (values in [0, 1]) or
    "uint8" (values 0..255, 4x less memory; only without binarising or resizing).
    """

    binarize: bool
    threshold: float = BINARIZE_THRESHOLD
    image_size: tuple[int, int] | None = None
    flatten: bool = False
    pixel_dtype: str = "float32"

    def __post_init__(self):
        if self.pixel_dtype not in ("float32", "uint8"):
            raise ValueError(f"pixel_dtype must be 'float32' or 'uint8', not {self.pixel_dtype!r}")
        if self.pixel_dtype == "uint8" and (self.binarize or self.image_size is not None):
            raise ValueError("pixel_dtype='uint8' keeps stored pixels: no binarising or resizing")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie in (0, 1), not {self.threshold}")


def to_unit_interval(images: np.ndarray) -> np.ndarray:
    """float32 pixels in [0, 1]: uint8 is divided by 255, floats are checked and cast."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    images = images.astype(np.float32, copy=False)
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError("floating-point images must already lie in [0, 1]")
    return images


def resize(images: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Resize float32 images (N, H, W, C) in [0, 1] to ``image_size`` = (height, width)."""
    from PIL import Image

    height, width = image_size
    if images.shape[1:3] == (height, width):
        return images
    resized = np.empty((images.shape[0], height, width, images.shape[3]), dtype=np.float32)
    for index, image in enumerate(images):
        for channel in range(images.shape[3]):
            plane = Image.fromarray(image[:, :, channel], mode="F")
            plane = plane.resize((width, height), Image.Resampling.BILINEAR)
            resized[index, :, :, channel] = np.asarray(plane)
    return np.clip(resized, 0.0, 1.0)


def binarize(images: np.ndarray, threshold: float = BINARIZE_THRESHOLD) -> np.ndarray:
    """float32 {0, 1}: 1 where the pixel is strictly above ``threshold``."""
    return (images > threshold).astype(np.float32)


def preprocess(images: np.ndarray, options: PreprocessOptions) -> np.ndarray:
    """Apply the steps of this module, in order, to images of shape (N, H, W, C)."""
    if options.pixel_dtype == "uint8":
        if images.dtype != np.uint8:
            raise ValueError("pixel_dtype='uint8' needs a dataset stored as uint8")
        processed = images
    else:
        processed = to_unit_interval(images)
        if options.image_size is not None:
            processed = resize(processed, options.image_size)
        if options.binarize:
            processed = binarize(processed, options.threshold)
    if options.flatten:
        processed = processed.reshape(processed.shape[0], -1)
    return processed
