"""Standard-normal draws from stateless uniforms by the Box-Muller transform.

`z1 = sqrt(-2 log u1) cos(2 pi u2)`, `z2 = sqrt(-2 log u1) sin(2 pi u2)` are independent
N(0, 1) for independent U(0, 1) `u1, u2`. On the CPU, TensorFlow's stateless normal sampler
costs about twice its uniform sampler per number; this transform needs one uniform per
normal and is the dominant saving of the fused IGR samplers (see benchmarks/).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import prefer_static as ps
from tensorflow_probability.python.internal import samplers


def standard_normal(shape, dtype, seed):
    """N(0, 1) draws of `shape` (last axis split into cos and sin halves) from a stateless seed."""
    shape = ps.convert_to_shape_tensor(shape, tf.int32)
    size = shape[-1]
    half = (size + 1) // 2
    uniform_shape = ps.concat([[2], shape[:-1], [half]], axis=0)
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    uniform = samplers.uniform(uniform_shape, minval=tiny, maxval=1.0, dtype=dtype, seed=seed)
    radius = tf.math.sqrt(-2.0 * tf.math.log(uniform[0]))
    angle = (2.0 * math.pi) * uniform[1]
    normal = tf.concat([radius * tf.math.cos(angle), radius * tf.math.sin(angle)], axis=-1)
    return normal[..., :size]


def sample_shape_vector(sample_shape):
    """`sample_shape` (an int, a sequence or a tensor) as a rank-1 int32 shape."""
    return ps.reshape(ps.convert_to_shape_tensor(sample_shape, tf.int32), [-1])


def gaussian_draw(loc, scale, sample_shape, seed):
    """`(noise, loc + scale * noise)` with `noise ~ N(0, I)` of shape sample + broadcast(loc, scale)."""
    shape = ps.concat([sample_shape_vector(sample_shape), ps.shape(loc + scale)], 0)
    noise = standard_normal(shape, loc.dtype, seed)
    return noise, loc + scale * noise
