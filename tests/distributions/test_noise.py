"""igr.distributions.noise: stateless draws by default, a pre-drawn pool inside drawing_from."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from igr.distributions import IGRI, IGRSB, GumbelSoftmax, IGRPlanar
from igr.distributions.noise import NoisePool, drawing_from, uniform

SEED = tf.constant([3, 4], tf.int32)


def test_default_draws_are_tensorflows_stateless_uniforms():
    drawn = uniform([5, 3], tf.float32, SEED, minval=0.25, maxval=2.0)
    expected = tf.random.stateless_uniform([5, 3], SEED, minval=0.25, maxval=2.0)
    np.testing.assert_array_equal(drawn.numpy(), expected.numpy())


def test_pool_draws_take_consecutive_slices_mapped_to_the_interval():
    values = tf.constant(np.linspace(0.0, 0.9, 10), tf.float32)
    pool = NoisePool(values)
    with drawing_from(pool):
        first = uniform([2, 2], tf.float32, SEED)
        second = uniform([3], tf.float32, SEED, minval=1.0, maxval=3.0)
    assert pool.used == 7
    np.testing.assert_array_equal(first.numpy(), values.numpy()[:4].reshape(2, 2))
    np.testing.assert_allclose(second.numpy(), 1.0 + 2.0 * values.numpy()[4:7], rtol=1e-6)
    # outside the block the stateless draw is back
    np.testing.assert_array_equal(
        uniform([3], tf.float32, SEED).numpy(),
        tf.random.stateless_uniform([3], SEED).numpy(),
    )


def test_pool_refuses_a_dynamic_shape_and_another_dtype():
    pool = NoisePool(tf.zeros([8]))
    with drawing_from(pool), pytest.raises(ValueError, match="float64"):
        uniform([2], tf.float64, SEED)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def dynamic(x):
        with drawing_from(NoisePool(tf.zeros([8]))):
            return uniform(tf.shape(x), tf.float32, SEED)

    with pytest.raises(ValueError, match="static shape"):
        dynamic.get_concrete_function()


def test_gumbel_softmax_reads_its_gumbel_noise_from_the_pool():
    logits = tf.constant([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])
    temperature = 0.7
    values = tf.random.stateless_uniform([2 * 3], [5, 6])
    with drawing_from(NoisePool(values)):
        psi = GumbelSoftmax(logits, temperature).sample(seed=SEED)
    tiny = np.finfo(np.float32).tiny
    u = tiny + values.numpy().reshape(1, 2, 3) * (1.0 - tiny)
    expected = tf.nn.softmax((logits - np.log(-np.log(u))) / temperature)
    np.testing.assert_allclose(psi.numpy(), expected.numpy().reshape(2, 3), rtol=1e-5)


def _planar(loc):
    flow = tf.fill([2, 2, 3], 0.3)  # [V, L, K-1]: one flow per variable, not per example
    return IGRPlanar(loc, tf.ones_like(loc), 0.5, flow, -flow, tf.zeros([2, 2]))


@pytest.mark.parametrize(
    "draw",
    [
        lambda loc: IGRI(loc, tf.ones_like(loc), 0.5).sample(seed=SEED),
        lambda loc: IGRSB(loc, tf.ones_like(loc), 0.5).sample(seed=SEED),
        lambda loc: _planar(loc).sample(seed=SEED),
        lambda loc: _planar(loc).distribution.experimental_sample_and_log_prob(seed=SEED)[0],
    ],
    ids=["igr_i", "igr_sb", "igr_planar", "igr_planar_lambda_and_log_prob"],
)
def test_the_gaussian_families_read_their_noise_from_the_pool(draw):
    # TFP's Normal draws stateless normals, which inside the XLA step run XLA's slow CPU
    # random-number kernels; every IGR draw must take its uniforms from the pool instead.
    loc = tf.zeros([4, 2, 3])  # [B, V, K-1]
    pool = NoisePool(tf.random.stateless_uniform([2 * 4 * 2 * 3], [5, 6]))
    with drawing_from(pool):
        first = draw(loc)
    assert pool.used == 4 * 2 * 3  # one uniform per Gaussian coordinate (Box-Muller)
    with drawing_from(NoisePool(pool.values)):
        np.testing.assert_array_equal(draw(loc).numpy(), first.numpy())
