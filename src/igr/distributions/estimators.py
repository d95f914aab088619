"""Gradient estimators for one categorical variable with logits theta [..., K].

The target is the gradient of ``L(theta) = E_{b ~ Cat(pi)}[f(b)]``, ``pi = softmax(theta)``,
over one-hot ``b``; its exact value is ``grad L = sum_k pi_k f(e_k) (e_k - pi)``. Each
estimator below takes the objective ``f`` (a callable from points [..., K] of the simplex, or
its vertices, to values [...]) and returns a :class:`GradientEstimate`: the point ``sample``
where the forward pass evaluates ``f``, and a ``surrogate`` [...] whose value is
``f(sample)`` and whose ``tf.GradientTape`` gradient with respect to ``theta`` is the
estimator. With ``J(p) = diag(p) - p p^T`` (the Jacobian of softmax at a point whose softmax
is ``p``) and ``pi_tau = softmax(theta / tau)``:

- :func:`gumbel_softmax_pathwise` (GS, relaxed): ``psi ~ GS(theta, tau)``, forward ``f(psi)``,
  gradient ``(d psi / d theta)^T grad f(psi)``. Unbiased for ``E[f(psi)]``, not for ``L``.
- :func:`straight_through_gumbel_softmax` (ST-GS, Jang et al. 2017): forward
  ``f(one_hot(argmax psi))``, gradient ``(d psi / d theta)^T grad f(one_hot(argmax psi))``.
- :func:`straight_through_categorical` (ST, Bengio et al. 2013, in the form of Liu et al.
  2023): ``D ~ Cat(pi)``, forward ``f(D)``, gradient ``J(pi_tau)^T grad f(D) / tau``. At
  ``tau = 1`` its mean is the forward-Euler (first-order) approximation of ``grad L``.
- :func:`reinmax` (Liu et al. 2023, arXiv 2304.08612, Algorithm 2): ``D ~ Cat(pi)``,
  ``pi0 = pi``, ``pi1 = (D + pi_tau) / 2``, forward ``f(D)``, gradient

      (2 J(pi1) - J(pi0) / 2)^T grad f(D).

  ``J(pi1)`` is obtained without a Hessian as the Jacobian of
  ``softmax(stop_gradient(log pi1 - theta) + theta)`` (value ``pi1``), and the sample is
  ``D + pi2 - stop_gradient(pi2)`` with ``pi2 = 2 pi1 - pi0 / 2``.
- :func:`reinforce` (score function, Williams 1992): ``D ~ Cat(pi)``, gradient
  ``f(D) grad log q(D) = f(D) (D - pi)``; unbiased for ``grad L``.

Why ReinMax is "second-order". Because ``sum_i pi_i (e_i - pi) = 0``,
``grad L = sum_j pi_j sum_i pi_i (e_i - pi) (f(e_i) - f(e_j))``. Replacing the difference
``f(e_i) - f(e_j)`` by ``grad f(e_j) . (e_i - e_j)`` (forward Euler along the edge, error
``O(f'')``) gives ``sum_j pi_j J(pi) grad f(e_j)``, the mean of ST at ``tau = 1``. Replacing
it by the trapezoid (Heun) rule ``(grad f(e_i) + grad f(e_j)) / 2 . (e_i - e_j)`` (error
``O(f''')``) gives ``sum_i pi_i M_i grad f(e_i) / 2`` with
``M_i = e_i e_i^T + diag(pi) - e_i pi^T - pi e_i^T``, and ``M_i / 2 = 2 J((e_i + pi) / 2) -
J(pi) / 2`` exactly: the mean of ReinMax at ``tau = 1``. So at ``tau = 1`` ReinMax is
unbiased for every quadratic ``f`` (linear included), and for a smooth ``f_s(b) = g(s b)``
its relative bias is ``O(s^2)`` where ST's is ``O(s)`` (tests/gradients check both).

Samples use stateless seeds: the exact categorical draw is the Gumbel-max
``argmax(theta + g)`` of ``tf.random.stateless_uniform`` noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from igr.distributions import noise
from igr.distributions._sampling import with_gradient
from igr.distributions.gumbel_softmax import GumbelSoftmax, straight_through

#: An objective: points [..., K] (one-hot or relaxed) to values [...].
Objective = Callable[[tf.Tensor], tf.Tensor]


class GradientEstimate(NamedTuple):
    """One draw of an estimator: where ``f`` is evaluated, and the surrogate to differentiate.

    ``sample`` [..., K]: the forward value (one-hot for ST, ST-GS, ReinMax and REINFORCE,
    the relaxed ``psi`` for the pathwise GS estimator). ``surrogate`` [...]: equal to
    ``f(sample)`` in value; its gradient with respect to the logits is the estimator.
    """

    sample: tf.Tensor
    surrogate: tf.Tensor


def _gumbel_noise(shape, dtype, seed):
    """``-log(-log U)``, U uniform on [tiny, 1) from a stateless seed (finite at both ends;
    :func:`igr.distributions.noise.uniform`)."""
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    uniform = noise.uniform(shape, dtype, seed, minval=tiny, maxval=1.0)
    return -tf.math.log(-tf.math.log(uniform))


def categorical_sample(logits, seed):
    """An exact draw ``D ~ Cat(softmax(logits))``, one-hot [..., K] (Gumbel-max), no gradient."""
    logits = tf.convert_to_tensor(logits)
    gumbel = _gumbel_noise(tf.shape(logits), logits.dtype, seed)
    index = tf.argmax(tf.stop_gradient(logits) + gumbel, axis=-1)
    return tf.one_hot(index, tf.shape(logits)[-1], dtype=logits.dtype)


def categorical_log_prob(logits, one_hot):
    """``log q(D) = D . log_softmax(logits)``."""
    return tf.reduce_sum(one_hot * tf.math.log_softmax(logits, axis=-1), axis=-1)


def score_function_surrogate(value, log_prob):
    """``f + stop_gradient(f) (log q - stop_gradient(log q))``: value ``f``, gradient
    ``f grad log q`` when ``f`` carries no gradient (a function of a stopped sample)."""
    value = tf.stop_gradient(value)
    return value + value * (log_prob - tf.stop_gradient(log_prob))


def straight_through_one_hot(logits, one_hot, temperature):
    """``D`` forward, gradient of ``softmax(logits / tau)`` backward (ST of Liu et al. 2023)."""
    soft = tf.math.softmax(logits / temperature, axis=-1)
    return with_gradient(one_hot, soft)


def reinmax_one_hot(logits, one_hot, temperature):
    """``D`` forward, ReinMax backward (module docstring, Liu et al. 2023 Algorithm 2).

    ``pi0 = softmax(theta)``, ``pi1 = (D + softmax(theta / tau)) / 2`` re-attached to theta
    as ``softmax(stop_gradient(log pi1 - theta) + theta)`` (Jacobian ``J(pi1)``),
    ``pi2 = 2 pi1 - pi0 / 2``, result ``D + pi2 - stop_gradient(pi2)``: the Jacobian of the
    result with respect to theta is ``2 J(pi1) - J(pi0) / 2``.
    """
    pi0 = tf.math.softmax(logits, axis=-1)
    pi1 = 0.5 * (one_hot + tf.math.softmax(logits / temperature, axis=-1))
    # pi1 > 0 everywhere (half of a softmax at least), so its log is finite.
    pi1 = tf.math.softmax(tf.stop_gradient(tf.math.log(pi1) - logits) + logits, axis=-1)
    pi2 = 2.0 * pi1 - 0.5 * pi0
    return with_gradient(one_hot, pi2)


def gumbel_softmax_pathwise(objective: Objective, logits, temperature, seed) -> GradientEstimate:
    """GS relaxed: ``psi ~ GS(theta, tau)``, surrogate ``f(psi)`` (reparameterised)."""
    psi = GumbelSoftmax(logits, temperature).sample(seed=seed)
    return GradientEstimate(psi, objective(psi))


def straight_through_gumbel_softmax(
    objective: Objective, logits, temperature, seed
) -> GradientEstimate:
    """ST-GS: forward ``f(one_hot(argmax psi))``, gradient through ``psi ~ GS(theta, tau)``."""
    psi = GumbelSoftmax(logits, temperature).sample(seed=seed)
    hard = straight_through(psi)
    return GradientEstimate(tf.stop_gradient(hard), objective(hard))


def straight_through_categorical(
    objective: Objective, logits, temperature, seed
) -> GradientEstimate:
    """ST: ``D ~ Cat(softmax(theta))``, gradient ``J(softmax(theta / tau))^T grad f(D) / tau``."""
    logits = tf.convert_to_tensor(logits)
    one_hot = categorical_sample(logits, seed)
    return GradientEstimate(
        one_hot, objective(straight_through_one_hot(logits, one_hot, temperature))
    )


def reinmax(objective: Objective, logits, temperature, seed) -> GradientEstimate:
    """ReinMax: ``D ~ Cat(softmax(theta))``, gradient ``(2 J(pi1) - J(pi0) / 2)^T grad f(D)``."""
    logits = tf.convert_to_tensor(logits)
    one_hot = categorical_sample(logits, seed)
    return GradientEstimate(one_hot, objective(reinmax_one_hot(logits, one_hot, temperature)))


def reinforce(objective: Objective, logits, seed) -> GradientEstimate:
    """REINFORCE: ``D ~ Cat(softmax(theta))``, gradient ``f(D) grad log q(D) = f(D) (D - pi)``.

    No baseline: the plain score-function estimator, unbiased for ``grad L``.
    """
    logits = tf.convert_to_tensor(logits)
    one_hot = categorical_sample(logits, seed)
    surrogate = score_function_surrogate(objective(one_hot), categorical_log_prob(logits, one_hot))
    return GradientEstimate(one_hot, surrogate)


#: Estimators of the categorical logits by name; ``reinforce`` takes no temperature.
CATEGORICAL_ESTIMATORS: dict[str, Callable[..., GradientEstimate]] = {
    "relaxed": gumbel_softmax_pathwise,
    "st_gs": straight_through_gumbel_softmax,
    "st": straight_through_categorical,
    "reinmax": reinmax,
    "reinforce": reinforce,
}
