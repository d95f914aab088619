"""Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

An IDX file is a big-endian header (two zero bytes, a type code, the number of dimensions,
then one uint32 per dimension) followed by the array in C order.
"""

from __future__ import annotations

import numpy as np

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(content: bytes) -> np.ndarray:
    """Decode the (decompressed) bytes of one IDX file into a numpy array.

    Raises ``ValueError`` when the header is not IDX or the payload has the wrong length.
    """
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError("not an IDX file (bad magic number)")
    type_code, num_dims = content[2], content[3]
    if type_code not in _IDX_TYPES:
        raise ValueError(f"unknown IDX element type 0x{type_code:02x}")
    header_end = 4 + 4 * num_dims
    if len(content) < header_end:
        raise ValueError("IDX header is truncated")
    shape = tuple(int(d) for d in np.frombuffer(content, dtype=">u4", count=num_dims, offset=4))
    dtype = _IDX_TYPES[type_code]
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(content) - header_end
    if payload != expected_bytes:
        raise ValueError(
            f"IDX payload holds {payload} bytes, its header {shape} announces {expected_bytes}"
        )
    array = np.frombuffer(content, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def idx_images(content: bytes) -> np.ndarray:
    """uint8 images of shape (N, H, W, 1) from an idx3-ubyte file."""
    images = parse_idx(content)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"expected a 3-d uint8 IDX array of images, got {images.shape} {images.dtype}"
        )
    return images[..., np.newaxis]


def idx_labels(content: bytes) -> np.ndarray:
    """int64 labels of shape (N,) from an idx1-ubyte file."""
    labels = parse_idx(content)
    if labels.ndim != 1:
        raise ValueError(f"expected a 1-d IDX array of labels, got shape {labels.shape}")
    return labels.astype(np.int64)
