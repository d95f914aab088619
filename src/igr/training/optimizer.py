"""The one optimiser of every stage, and the fixed-step fit of the small stages.

Adam (Kingma & Ba) as ``tf_keras`` implements it, with its defaults beta1 = 0.9,
beta2 = 0.999, epsilon = 1e-7: for gradient g at step t (from 1),

    m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2,
    theta -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon).

The VAE and SOP stages train with it through :class:`igr.training.Trainer`; the priors and
approximations stages fit a few parameters with :func:`fit_with_adam`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf
import tf_keras


def adam(learning_rate) -> tf_keras.optimizers.Optimizer:
    """``tf_keras`` Adam at ``learning_rate`` (a number or a schedule), defaults otherwise."""
    return tf_keras.optimizers.Adam(learning_rate=learning_rate)


def fit_with_adam(
    variables: Sequence[tf.Variable],
    loss_fn: Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]],
    seeds: tf.Tensor,
    num_steps: int,
    learning_rate: float,
) -> tuple[list[float], list[int]]:
    """``num_steps`` compiled Adam steps; step t calls ``loss_fn(seeds[t])``.

    ``loss_fn`` returns ``(loss, extra)``, a scalar integer ``extra`` recorded per step (for
    example the categories a truncated draw used; 0 when there is nothing to record).
    Returns the per-step losses and extras.
    """
    optimizer = adam(learning_rate)
    optimizer.build(variables)

    @tf.function(autograph=False)
    def step(step_seed):
        with tf.GradientTape() as tape:
            loss, extra = loss_fn(step_seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, extra

    losses, extras = [], []
    for index in range(num_steps):
        loss, extra = step(seeds[index])
        losses.append(float(loss))
        extras.append(int(extra))
    return losses, extras
