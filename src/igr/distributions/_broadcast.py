"""The inverse of broadcasting, for hand-written vector-Jacobian products."""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.internal import prefer_static as ps


def sum_to_shape(gradient, shape):
    """`gradient` summed over the axes along which a tensor of `shape` was broadcast to it.

    When both shapes are static the axes are found in Python; otherwise
    `BroadcastGradientArgs` finds them, as TensorFlow's own gradients do.
    """
    static_source = tf.get_static_value(ps.convert_to_shape_tensor(shape, tf.int32))
    if static_source is not None and gradient.shape.is_fully_defined():
        source, target = [int(d) for d in static_source], gradient.shape.as_list()
        offset = len(target) - len(source)
        # Leading axes are summed away, stretched ones kept with size 1: no reshape needed
        # (XLA copies a reshaped output; a sum over an axis of size 1 is free).
        inner = [i for i in range(len(source)) if source[i] == 1 and target[i + offset] != 1]
        if inner:
            gradient = tf.reduce_sum(gradient, axis=[i + offset for i in inner], keepdims=True)
        if offset:
            gradient = tf.reduce_sum(gradient, axis=list(range(offset)))
        return gradient
    _, axes = tf.raw_ops.BroadcastGradientArgs(s0=tf.shape(gradient), s1=shape)
    return tf.reshape(tf.reduce_sum(gradient, axis=axes), shape)
