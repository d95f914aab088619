"""Gumbel-Softmax (Concrete) with an optional straight-through forward pass (spec 1.1).

Sample: `g_k = -log(-log U_k)`, `psi = softmax((logits + g) / tau)`.
Density of `y = log psi` (ExpConcrete, Maddison et al. 2017), in a numerically safe form:

    log p(y) = lgamma(K) + (K-1) log tau + sum_k (logits_k - tau y_k)
               - K logsumexp_k(logits_k - tau y_k),

equal to `tfp.distributions.ExpRelaxedOneHotCategorical.log_prob`. The density of psi itself,
with respect to Lebesgue measure on `psi_{1:K-1}` (the convention of every family here), is
`log p(y) - sum_k y_k` (TFP's `RelaxedOneHotCategorical.log_prob`). Argmax probabilities are
exact: `softmax(logits)`.

Straight-through (ST-GS): `sample` returns `one_hot(argmax psi)` in the forward pass with the
gradient of `psi`. `log_prob` and `experimental_sample_and_log_prob` always refer to the
relaxed psi underneath.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.bijectors import softplus as softplus_bijector
from tensorflow_probability.python.distributions import distribution as distribution_lib
from tensorflow_probability.python.internal import (
    dtype_util,
    parameter_properties,
    reparameterization,
    samplers,
)
from tensorflow_probability.python.internal import prefer_static as ps

from igr.distributions import noise
from igr.distributions._checks import as_parameter, check_event_size, check_positive
from igr.distributions._sampling import sample_shape_vector, with_gradient


def exp_concrete_log_prob(log_psi, logits, temperature):
    """ExpConcrete log-density of `y = log_psi` [..., K] (see module docstring).

    Uses `sum_k s_k - K logsumexp(s) = sum_k log_softmax(s)_k` with `s = logits - tau y`.
    """
    num_categories = ps.cast(ps.shape(log_psi)[-1], log_psi.dtype)
    scores = logits - temperature[..., tf.newaxis] * log_psi
    return (
        tf.math.lgamma(num_categories)
        + (num_categories - 1.0) * tf.math.log(temperature)
        + tf.reduce_sum(tf.math.log_softmax(scores, axis=-1), axis=-1)
    )


def straight_through(psi):
    """`one_hot(argmax psi)` forward, exactly, gradient of `psi` backward (`with_gradient`)."""
    hard = tf.one_hot(tf.argmax(psi, axis=-1), ps.shape(psi)[-1], dtype=psi.dtype)
    return with_gradient(hard, psi)


class GumbelSoftmax(distribution_lib.AutoCompositeTensorDistribution):
    """Gumbel-Softmax / Concrete over K categories (event size K).

    Args:
      logits: float `Tensor` [..., K], the unnormalised log-probabilities `log alpha`.
      temperature: `tau > 0`, broadcast against the batch shape.
      straight_through: if True, `sample` returns hard one-hot vectors with ST gradients.
    """

    def __init__(
        self,
        logits,
        temperature,
        straight_through=False,
        validate_args=False,
        allow_nan_stats=True,
        name="GumbelSoftmax",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            check_event_size("logits", logits, 2, "the number of categories K")
            check_positive("temperature", temperature)
            dtype = dtype_util.common_dtype([logits, temperature], dtype_hint=tf.float32)
            self._logits = as_parameter(logits, dtype, "logits")
            self._temperature = as_parameter(temperature, dtype, "temperature")
            self._straight_through = bool(straight_through)
            super().__init__(
                dtype=dtype,
                reparameterization_type=reparameterization.FULLY_REPARAMETERIZED,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                parameters=parameters,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            logits=parameter_properties.ParameterProperties(event_ndims=1),
            temperature=parameter_properties.ParameterProperties(
                default_constraining_bijector_fn=lambda: softplus_bijector.Softplus()
            ),
        )

    @property
    def logits(self):
        return self._logits

    @property
    def temperature(self):
        return self._temperature

    @property
    def straight_through(self) -> bool:
        return self._straight_through

    @property
    def num_categories(self) -> int:
        return int(self._logits.shape[-1])

    def _event_shape(self):
        return self._logits.shape[-1:]

    def _event_shape_tensor(self):
        return ps.shape(self._logits)[-1:]

    def _batch_shape(self):
        return tf.broadcast_static_shape(self._logits.shape[:-1], self._temperature.shape)

    def _batch_shape_tensor(self):
        return ps.broadcast_shape(ps.shape(self._logits)[:-1], ps.shape(self._temperature))

    def sample_log(self, sample_shape=(), seed=None):
        """Relaxed samples in log space, `y = log psi` [sample, batch, K] (never underflows)."""
        seed = samplers.sanitize_seed(seed)
        logits = tf.convert_to_tensor(self._logits)
        temperature = tf.convert_to_tensor(self._temperature)
        shape = ps.concat(
            [
                sample_shape_vector(sample_shape),
                self._batch_shape_tensor(),
                ps.shape(logits)[-1:],
            ],
            axis=0,
        )
        # The smallest normal float keeps -log(-log U) finite at both ends.
        tiny = tf.constant(
            dtype_util.as_numpy_dtype(logits.dtype)(
                np.finfo(dtype_util.as_numpy_dtype(logits.dtype)).tiny
            ),
            logits.dtype,
        )
        uniform = noise.uniform(shape, logits.dtype, seed, minval=tiny, maxval=1.0)
        gumbel = -tf.math.log(-tf.math.log(uniform))
        return tf.math.log_softmax((logits + gumbel) / temperature[..., tf.newaxis], axis=-1)

    def _sample_n(self, n, seed=None):
        psi = tf.math.exp(self.sample_log([n], seed=seed))
        return straight_through(psi) if self._straight_through else psi

    def log_prob_log(self, log_psi):
        """ExpConcrete log-density of `y = log psi` (the KL between GS laws uses this)."""
        return exp_concrete_log_prob(
            log_psi, tf.convert_to_tensor(self._logits), tf.convert_to_tensor(self._temperature)
        )

    def _log_prob(self, psi):
        log_psi = tf.math.log(psi)
        return self.log_prob_log(log_psi) - tf.reduce_sum(log_psi, axis=-1)

    def _sample_and_log_prob(self, sample_shape, seed, **kwargs):
        log_psi = self.sample_log(sample_shape, seed=seed)
        psi = tf.math.exp(log_psi)
        if self._straight_through:
            psi = straight_through(psi)
        return psi, self.log_prob_log(log_psi) - tf.reduce_sum(log_psi, axis=-1)

    def argmax_probs(self, num_samples=None, seed=None, jit_compile=False):
        """Exact argmax law `softmax(logits)` [..., K]; `num_samples`, `seed` and
        `jit_compile` (IGR-I's quadrature option; a softmax needs none) are ignored."""
        del num_samples, seed, jit_compile
        probs = tf.math.softmax(tf.convert_to_tensor(self._logits), axis=-1)
        shape = ps.concat([self._batch_shape_tensor(), ps.shape(probs)[-1:]], axis=0)
        return tf.broadcast_to(probs, shape)

    def sample_argmax(self, n, seed=None):
        """Argmax categories [n, ...] of `n` draws."""
        return tf.argmax(self.sample_log([n], seed=seed), axis=-1, output_type=tf.int32)
