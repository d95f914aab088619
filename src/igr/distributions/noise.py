"""Where the families' uniform noise comes from: stateless draws, or a pool drawn outside XLA.

Every reparameterised draw of every family starts from uniforms taken by :func:`uniform`
(GS's Gumbel noise ``-log(-log U)``, the Box-Muller uniforms of the IGR families, the Gumbel-max
draws of ST-GS and ReinMax). By default :func:`uniform` is TFP's stateless
``samplers.uniform(shape, seed)``.

Inside :func:`drawing_from` (``with drawing_from(pool): ...``) it instead takes the next
``prod(shape)`` entries of ``pool``, a flat float32 tensor of i.i.d. U[0, 1) values, and maps
them to ``minval + u (maxval - minval)`` (the same affine map as ``stateless_uniform``), so
each draw reads its own slice and draws stay independent; the seed is not used. The training
step compiled with XLA uses this (:func:`igr.training.compiled.compile_step`): XLA's CPU
random-number kernels cost about 16 ns per uniform against 0.3 ns in graph mode (2-core CPU,
2 million draws), which made sampling cost a GS step more than its dense layers gained from
XLA; drawing the pool in graph mode and passing it into the compiled step removes that.
"""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import samplers


class NoisePool:
    """A flat pool of U[0, 1) values handed out in order (``used``: how many so far)."""

    def __init__(self, values: tf.Tensor):
        self.values = values
        self.used = 0

    def take(self, shape, dtype) -> tf.Tensor:
        """The next ``prod(shape)`` values, reshaped to ``shape`` (static only)."""
        static = tf.TensorShape(tf.get_static_value(tf.convert_to_tensor(shape, tf.int32)))
        if not static.is_fully_defined():
            raise ValueError(f"a draw from the noise pool needs a static shape, got {static}")
        if tf.as_dtype(dtype) != self.values.dtype:
            raise ValueError(
                f"the noise pool holds {self.values.dtype.name}, a draw asked for "
                f"{tf.as_dtype(dtype).name}"
            )
        size = int(np.prod(static.as_list(), dtype=np.int64))
        start, self.used = self.used, self.used + size
        return tf.reshape(self.values[start:self.used], static)


_ACTIVE: list[NoisePool] = []


@contextlib.contextmanager
def drawing_from(pool: NoisePool):
    """Within the block, :func:`uniform` takes its values from ``pool`` (module docstring)."""
    _ACTIVE.append(pool)
    try:
        yield pool
    finally:
        _ACTIVE.pop()


def uniform(shape, dtype, seed, minval=0.0, maxval=1.0) -> tf.Tensor:
    """U[minval, maxval) draws of ``shape``: from the active pool, else stateless from
    ``seed`` (TFP's ``samplers.uniform``)."""
    if not _ACTIVE:
        return samplers.uniform(shape, minval=minval, maxval=maxval, dtype=dtype, seed=seed)
    values = _ACTIVE[-1].take(shape, dtype)
    return minval + values * (maxval - minval)
