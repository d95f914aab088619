"""Small constructors of every family with fixed parameters, shared by the tests."""

import numpy as np
import tensorflow as tf

from igr.models import relaxed

F64 = tf.float64


def params(num_categories, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    loc = tf.constant(rng.normal(0.0, spread, num_categories - 1), F64)
    scale = tf.constant(rng.uniform(0.4, 1.5, num_categories - 1), F64)
    return loc, scale


def make(family, num_categories, temperature, seed=0):
    loc, scale = params(num_categories, seed)
    tau = tf.constant(temperature, F64)
    if family == "gs":
        return relaxed.distribution(family, tau, logits=tf.concat([loc, tf.zeros([1], F64)], 0))
    rng = np.random.default_rng(seed + 100)
    flow = (
        tf.constant(rng.normal(0, 1, (2, num_categories - 1)), F64),
        tf.constant(rng.normal(0, 1, (2, num_categories - 1)), F64),
        tf.constant(rng.normal(0, 0.5, (2,)), F64),
    )
    return relaxed.distribution(family, tau, loc=loc, scale=scale, flow=flow)


FAMILIES = ("gs", "igr_i", "igr_planar", "igr_sb")
