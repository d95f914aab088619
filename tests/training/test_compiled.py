"""igr.training.compiled.compile_step: graph mode as before; XLA with a pool drawn outside."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from igr.distributions import GumbelSoftmax
from igr.training.compiled import compile_step, pool_seed, step_seed

LOGITS = tf.constant(np.log([[0.2, 0.3, 0.5]] * 4), tf.float32)
TEMPERATURE = 0.5


def gs_step(batch, seed):
    """A step that returns one GS draw per row of the batch (scaled logits), and its mean."""
    psi = GumbelSoftmax(batch * LOGITS[: tf.shape(batch)[0]], TEMPERATURE).sample(seed=seed)
    return {"psi": psi, "loss": tf.reduce_mean(psi)}


def test_graph_mode_is_the_step_function_at_the_step_seed():
    step = compile_step(gs_step, seed=7, jit_compile=False)
    batch = tf.ones([4, 1])
    got = step(batch, tf.constant(3, tf.int64))["psi"].numpy()
    expected = tf.function(gs_step)(batch, step_seed(7, 3))["psi"].numpy()
    np.testing.assert_array_equal(got, expected)


def test_xla_step_draws_its_noise_from_the_pool_of_the_step_seed():
    step = compile_step(gs_step, seed=7, jit_compile=True)
    batch = tf.ones([4, 1])
    got = step(batch, tf.constant(3, tf.int64))["psi"].numpy()
    values = tf.random.stateless_uniform([4 * 3], pool_seed(step_seed(7, 3))).numpy()
    tiny = np.finfo(np.float32).tiny
    gumbel = -np.log(-np.log(tiny + values.reshape(4, 3) * (1.0 - tiny)))
    expected = tf.nn.softmax((LOGITS + gumbel) / TEMPERATURE).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # a pure function of (batch, t): the same step again, another step different
    np.testing.assert_array_equal(step(batch, tf.constant(3, tf.int64))["psi"].numpy(), got)
    assert not np.allclose(step(batch, tf.constant(4, tf.int64))["psi"].numpy(), got)


def test_xla_step_counts_the_pool_per_batch_shape():
    step = compile_step(gs_step, seed=1, jit_compile=True)
    full = step(tf.ones([4, 1]), tf.constant(0, tf.int64))["psi"]
    last = step(tf.ones([2, 1]), tf.constant(1, tf.int64))["psi"]  # a smaller last batch
    assert full.shape == (4, 3) and last.shape == (2, 3)
    values = tf.random.stateless_uniform([2 * 3], pool_seed(step_seed(1, 1))).numpy()
    tiny = np.finfo(np.float32).tiny
    gumbel = -np.log(-np.log(tiny + values.reshape(2, 3) * (1.0 - tiny)))
    expected = tf.nn.softmax((LOGITS[:2] + gumbel) / TEMPERATURE).numpy()
    np.testing.assert_allclose(last.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_a_step_that_gathers_its_batch_equals_the_step_on_that_batch():
    """``batch_of``: ``step(indices, t)`` runs ``step_fn`` on ``batch_of(indices)``, in both
    modes, a smaller last batch included (the Trainer gathers from its pipeline so)."""
    table = tf.constant([[1.0], [2.0], [0.5], [3.0], [1.5]])
    for jit in (False, True):
        direct = compile_step(gs_step, seed=7, jit_compile=jit)
        gathering = compile_step(gs_step, seed=7, jit_compile=jit,
                                 batch_of=lambda indices: tf.gather(table, indices))
        for indices, t in (([4, 0, 2, 1], 3), ([3, 1], 4)):
            got = gathering(tf.constant(indices, tf.int64), tf.constant(t, tf.int64))["psi"]
            expected = direct(tf.gather(table, indices), tf.constant(t, tf.int64))["psi"]
            np.testing.assert_array_equal(got.numpy(), expected.numpy())
