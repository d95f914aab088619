"""Gaussian noise for the IGR families: Box-Muller draws and their log density.

`z1 = sqrt(-2 log u1) cos(2 pi u2)`, `z2 = sqrt(-2 log u1) sin(2 pi u2)` are independent
N(0, 1) for independent U(0, 1] `u1` and U[0, 1) `u2`: one stateless uniform per normal. In
the IGR sampling benchmark on a 2-core CPU this transform costs about half of what
`tf.random.stateless_normal` spends beyond its uniform draws (benchmarks/)."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import prefer_static as ps
from tensorflow_probability.python.internal import samplers

from igr.distributions import noise


def standard_normal(shape, dtype, seed):
    """N(0, 1) draws of `shape` from a stateless seed, by Box-Muller on one flat block.

    With `u1, u2` uniform on [0, 1) (two draws of the split seed, :func:`noise.uniform`), the
    block is `sqrt(-2 log(1 - u1)) * sin(2 pi u2 + [pi / 2, 0])`, of shape [2, half]: its first
    row is the cos half, its second the sin half (`cos a = sin(a + pi / 2)`), so one broadcast
    sin replaces a cos, a sin and their concatenation, and nothing is sliced along the
    (short) last axis. Draws are i.i.d., so the layout does not change their law. `1 - u1`
    lies in (0, 1], so the radius is finite.
    """
    shape = ps.convert_to_shape_tensor(shape, tf.int32)
    size = ps.reduce_prod(shape)
    half = (size + 1) // 2
    radius_seed, angle_seed = samplers.split_seed(seed, 2)
    radius = tf.math.sqrt(
        -2.0 * tf.math.log1p(-noise.uniform([half], dtype, radius_seed))
    )
    angle = (2.0 * math.pi) * noise.uniform([half], dtype, angle_seed)
    phase = tf.constant([[0.5 * math.pi], [0.0]], dtype)
    normal = tf.reshape(radius * tf.math.sin(angle + phase), [-1])
    if not (isinstance(size, (int, np.integer)) and size % 2 == 0):
        normal = normal[:size]
    return tf.reshape(normal, shape)


def with_gradient(value, gradient_path):
    """``value`` in the forward pass, the gradient of ``gradient_path`` in the backward pass.

    ``value + (path - stop_gradient(path))``: the bracket is exactly 0 in the forward pass,
    so the result equals ``value`` bit for bit (a one-hot ``D`` stays exactly one-hot;
    ``path + stop_gradient(value - path)`` is off by a rounding error in some entries).
    """
    return tf.stop_gradient(value) + (gradient_path - tf.stop_gradient(gradient_path))


def sample_shape_vector(sample_shape):
    """`sample_shape` (an int, a sequence or a tensor) as a rank-1 int32 shape."""
    return ps.reshape(ps.convert_to_shape_tensor(sample_shape, tf.int32), [-1])


def loc_scale_and_noise(loc, scale, sample_shape, seed):
    """`(loc, scale, noise)`: `loc` and `scale` broadcast to one shape P (a no-op when they
    already share it) and `noise ~ N(0, I)` of shape sample + P."""
    if not (loc.shape.is_fully_defined() and loc.shape == scale.shape):
        shape = ps.broadcast_shape(ps.shape(loc), ps.shape(scale))
        loc, scale = tf.broadcast_to(loc, shape), tf.broadcast_to(scale, shape)
    shape = ps.concat([sample_shape_vector(sample_shape), ps.shape(loc)], 0)
    return loc, scale, standard_normal(shape, loc.dtype, seed)


def gaussian_log_density(noise, scale, active=None):
    """`sum_k log N(loc_k + scale_k noise_k; loc_k, scale_k)` over the last axis.

    `= -sum_k noise_k^2 / 2 - sum_k log scale_k - (n / 2) log(2 pi)`; the `log scale` sum is
    taken on the parameters' own shape (once, not once per sample). With `active` (a boolean
    mask of the last axis), only the active entries count.
    """
    log_scale = tf.math.log(scale)
    if log_scale.shape[-1:] != noise.shape[-1:] or noise.shape[-1] is None:
        event = ps.shape(noise)[-1:]
        log_scale = tf.broadcast_to(log_scale, ps.concat([ps.shape(log_scale)[:-1], event], 0))
    squares = tf.square(noise)
    if active is None:
        num_coordinates = ps.cast(ps.shape(noise)[-1], noise.dtype)
    else:
        mask = tf.cast(active, noise.dtype)
        squares, log_scale = squares * mask, log_scale * mask
        num_coordinates = tf.reduce_sum(mask, axis=-1)
    return (
        -0.5 * tf.reduce_sum(squares, axis=-1)
        - tf.reduce_sum(log_scale, axis=-1)
        - num_coordinates * (0.5 * math.log(2.0 * math.pi))
    )
