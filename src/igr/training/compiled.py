"""The compiled training step: graph mode, or XLA with its noise drawn outside XLA.

``compile_step(step_fn, seed, jit_compile)`` returns ``step(batch, t)`` computing
``step_fn(batch, step_seed(seed, t))``:

- graph mode: ``tf.function`` of exactly that;
- XLA: a graph-mode function that draws ``n`` uniforms ``u = stateless_uniform([n],
  fold_in(s, NOISE_POOL_SALT))`` (s the step seed) and calls the XLA-compiled
  ``step_fn(batch, s)`` with ``u`` as an input, inside which every family draws its noise
  from ``u`` (:mod:`igr.distributions.noise`). ``n`` is the number of uniforms one step
  reads, counted while the compiled function is traced (once per batch shape). XLA's CPU
  random-number kernels are about 50x slower per draw than TensorFlow's (measured in
  :mod:`igr.distributions.noise`); with the pool the XLA step of GS ran 0.95x the XLA
  dense floor, against 0.81x with its noise drawn inside XLA (benchmarks/bench_vae.py).

Either way ``step`` is a pure function of (variables, batch, t), so a resumed run repeats
an uninterrupted one; the two modes draw different numbers from the same seed.

Every ``tf.function`` in igr, here and elsewhere, is built with ``autograph=False``: igr's
graph code has no Python control flow on tensors (it uses ``tf.where`` and
``tf.while_loop``), so AutoGraph would only convert it, and that conversion cost 0.8-1.4 s
per trace of a VAE training step (trace 1.1-1.8 s against 0.26-0.34 s, 2-core CPU), a
noticeable share of a default-pipeline job, which traces several functions
(tests/test_autograph_off.py keeps it so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import tensorflow as tf

from igr.distributions.noise import NoisePool, drawing_from

#: Salt of the pool's seed, ``fold_in(step seed, NOISE_POOL_SALT)``.
NOISE_POOL_SALT = 0x6E6F6973


def step_seed(seed: int | tf.Tensor, step: int | tf.Tensor) -> tf.Tensor:
    """Stateless seed (int32 [2], TFP's seed dtype) of global step t: ``fold_in((seed, 0), t)``.

    A pure function of (seed, step): a resumed run draws the same numbers as an
    uninterrupted one without saving any random-number state.
    """
    base = tf.stack([tf.cast(seed, tf.int32), tf.constant(0, tf.int32)])
    return tf.random.experimental.stateless_fold_in(base, tf.cast(step, tf.int32))


def pool_seed(seed: tf.Tensor) -> tf.Tensor:
    """Seed of the noise pool of the step with seed ``seed``."""
    return tf.random.experimental.stateless_fold_in(seed, NOISE_POOL_SALT)


def _shape_key(batch) -> tuple:
    return tuple(tuple(t.shape.as_list()) for t in tf.nest.flatten(batch))


def compile_step(
    step_fn: Callable[[Any, tf.Tensor], Mapping[str, tf.Tensor]],
    seed: int,
    jit_compile: bool,
    batch_of: Callable[[Any], Any] | None = None,
) -> Callable[[Any, tf.Tensor], Mapping[str, tf.Tensor]]:
    """``step(batch, t)`` = ``step_fn(batch, step_seed(seed, t))``, compiled (module docstring).

    With ``batch_of``, ``step(indices, t)`` = ``step_fn(batch_of(indices), step_seed(seed, t))``:
    the batch is gathered inside the compiled function (in graph mode, before the XLA call).
    """
    gather = batch_of if batch_of is not None else (lambda batch: batch)
    if not jit_compile:
        return tf.function(
            lambda batch, t: step_fn(gather(batch), step_seed(seed, t)),
            reduce_retracing=True,
            autograph=False,
        )
    pool_sizes: dict[tuple, int] = {}

    @tf.function(jit_compile=True, autograph=False)
    def compiled(batch, t, pool_values):
        pool = NoisePool(pool_values)
        with drawing_from(pool):
            # the seed is derived inside XLA: passed in as an argument instead, XLA's
            # seed-splitting made IGR-Planar's step 1.5x slower (benchmarks/bench_vae.py)
            outputs = step_fn(batch, step_seed(seed, t))
        pool_sizes[_shape_key(batch)] = pool.used  # once per trace, i.e. per batch shape
        return outputs

    @tf.function(autograph=False)
    def step(batch, t):
        batch = gather(batch)
        key = _shape_key(batch)
        if None in (d for shape in key for d in shape):
            raise ValueError(f"the XLA step needs static batch shapes, got {key}")
        concrete = compiled.get_concrete_function(
            tf.nest.map_structure(tf.TensorSpec.from_tensor, batch),
            tf.TensorSpec.from_tensor(tf.convert_to_tensor(t)),
            tf.TensorSpec([None], tf.float32),
        )
        values = tf.random.stateless_uniform([pool_sizes[key]], pool_seed(step_seed(seed, t)))
        return concrete(batch, t, values)

    return step
