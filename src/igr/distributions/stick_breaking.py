"""Stick-breaking with the remainder as the K-th category, and the tempered softmax (IGR-SB).

IGR-SB maps `kappa` in R^(K-1) to the K-simplex in two invertible steps (spec 1.5):

1. `StickBreaking`: sticks `v = sigmoid(kappa)`, pieces
   `eta_k = v_k prod_{j<k} (1 - v_j)` for k < K and the remainder
   `eta_K = prod_{j<K} (1 - v_j)`, a point of the K-simplex. With the simplex measured by
   Lebesgue measure on its first K-1 coordinates,
   `log |det d eta_{1:K-1} / d kappa| = sum_k [log v_k + log(1 - v_k)] + sum_k sum_{j<k} log(1 - v_j)`.
   Inverse: `kappa_k = log eta_k - log(eta_{k+1} + ... + eta_K)`.
2. `TemperedSoftmax`: `psi = softmax(eta / tau)` over all K entries, a map of the simplex
   into itself with `log |det d psi_{1:K-1} / d eta_{1:K-1}| = log K - (K-1) log tau +
   sum_{k=1..K} log psi_k`. Inverse: with `c_k = tau log(psi_k / psi_K)`,
   `eta_K = (1 - sum_k c_k) / K` and `eta_k = c_k + eta_K`.

Because the pieces lie in [0, 1], `|log psi_i - log psi_j| <= 1 / tau`: the image is only part
of the simplex, and points outside it have no preimage (their inverse has a negative piece).

The functions below take an optional `num_categories` (a scalar integer tensor m <= K):
only the first m-1 sticks are used, the remainder sits at index m-1 and later entries are 0.
This is how the truncated family (spec 1.6) keeps static shapes inside `tf.function`.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector as bijector_lib
from tensorflow_probability.python.bijectors import softplus as softplus_bijector
from tensorflow_probability.python.internal import dtype_util, parameter_properties
from tensorflow_probability.python.internal import prefer_static as ps

from igr.distributions._checks import as_parameter, as_tensor, check_positive
from igr.distributions.softmax_plus_plus import AddsOneCategory


def _active_mask(num_sticks_total, num_categories, dtype):
    """Float mask [K-1] of the sticks in use (the first m-1), or None when all are in use."""
    if num_categories is None:
        return None
    return tf.cast(tf.range(num_sticks_total) < num_categories - 1, dtype)


def log_stick_pieces(kappa, num_categories=None):
    """`log eta` [..., K] from `kappa` [..., K-1]; with m = num_categories, entries >= m are -inf."""
    log_v = -tf.math.softplus(-kappa)
    log_one_minus_v = -tf.math.softplus(kappa)
    mask = _active_mask(ps.shape(kappa)[-1], num_categories, kappa.dtype)
    if mask is not None:
        log_one_minus_v = log_one_minus_v * mask
    log_prefix = tf.math.cumsum(log_one_minus_v, axis=-1, exclusive=True)
    log_pieces = log_v + log_prefix
    log_remainder = tf.reduce_sum(log_one_minus_v, axis=-1, keepdims=True)
    if mask is None:
        return tf.concat([log_pieces, log_remainder], axis=-1)
    # Active sticks keep their piece; the remainder moves to index m-1; the rest is empty.
    index = tf.range(ps.shape(kappa)[-1] + 1)
    padded = tf.concat([log_pieces, tf.zeros_like(log_remainder)], axis=-1)
    neg_inf = tf.constant(-float("inf"), kappa.dtype)
    return tf.where(
        index < num_categories - 1,
        padded,
        tf.where(index == num_categories - 1, log_remainder, neg_inf),
    )


def stick_breaking_log_det(kappa, num_categories=None):
    """`log |det d eta_{1:m-1} / d kappa_{1:m-1}|` (sigmoid and stick map), summed over sticks."""
    log_v = -tf.math.softplus(-kappa)
    log_one_minus_v = -tf.math.softplus(kappa)
    mask = _active_mask(ps.shape(kappa)[-1], num_categories, kappa.dtype)
    if mask is not None:
        log_v = log_v * mask
        log_one_minus_v = log_one_minus_v * mask
    log_prefix = tf.math.cumsum(log_one_minus_v, axis=-1, exclusive=True)
    per_stick = log_v + log_one_minus_v + log_prefix
    if mask is not None:
        per_stick = per_stick * mask
    return tf.reduce_sum(per_stick, axis=-1)


def tempered_softmax_log_det(log_psi, temperature, num_categories=None):
    """`log m - (m-1) log tau + sum_{k<=m} log psi_k` for the m categories in use."""
    if num_categories is None:
        m = ps.cast(ps.shape(log_psi)[-1], log_psi.dtype)
        total = tf.reduce_sum(log_psi, axis=-1)
    else:
        m = tf.cast(num_categories, log_psi.dtype)
        active = tf.range(ps.shape(log_psi)[-1]) < num_categories
        total = tf.reduce_sum(tf.where(active, log_psi, tf.zeros_like(log_psi)), axis=-1)
    return tf.math.log(m) - (m - 1.0) * tf.math.log(temperature) + total


class StickBreaking(AddsOneCategory, bijector_lib.Bijector):
    """`kappa` in R^(K-1) -> stick pieces `eta` on the K-simplex, remainder included."""

    def __init__(self, validate_args=False, name="stick_breaking"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            super().__init__(
                forward_min_event_ndims=1,
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype):
        return dict()

    def _forward(self, x):
        return tf.math.exp(log_stick_pieces(x))

    def _inverse(self, y):
        # kappa_k = log eta_k - log(sum_{j>k} eta_j); NaN where a piece is negative.
        tail = tf.math.cumsum(y, axis=-1, reverse=True, exclusive=True)
        return tf.math.log(y[..., :-1]) - tf.math.log(tail[..., :-1])

    def _forward_log_det_jacobian(self, x):
        return stick_breaking_log_det(x)


class TemperedSoftmax(bijector_lib.Bijector):
    """`psi = softmax(eta / tau)`, a map of the K-simplex into itself."""

    def __init__(self, temperature, validate_args=False, name="tempered_softmax"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([temperature])
            self._temperature = as_parameter(temperature, dtype, "temperature")
            check_positive("temperature", self._temperature)
            super().__init__(
                forward_min_event_ndims=1,
                validate_args=validate_args,
                parameters=parameters,
                dtype=dtype,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype):
        return dict(
            temperature=parameter_properties.ParameterProperties(
                default_constraining_bijector_fn=lambda: softplus_bijector.Softplus()
            )
        )

    @property
    def temperature(self):
        return self._temperature

    def _tau(self, dtype):
        return as_tensor(self._temperature, dtype)[..., tf.newaxis]

    def _forward(self, x):
        return tf.math.softmax(x / self._tau(x.dtype), axis=-1)

    def _inverse(self, y):
        log_y = tf.math.log(y)
        c = self._tau(y.dtype) * (log_y[..., :-1] - log_y[..., -1:])
        k = ps.cast(ps.shape(y)[-1], y.dtype)
        remainder = (1.0 - tf.reduce_sum(c, axis=-1, keepdims=True)) / k
        return tf.concat([c + remainder, remainder], axis=-1)

    def _forward_log_det_jacobian(self, x):
        tau = self._tau(x.dtype)
        log_psi = tf.math.log_softmax(x / tau, axis=-1)
        return tempered_softmax_log_det(log_psi, tau[..., 0])
