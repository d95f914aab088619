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

import functools

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector as bijector_lib
from tensorflow_probability.python.bijectors import softplus as softplus_bijector
from tensorflow_probability.python.internal import dtype_util, parameter_properties
from tensorflow_probability.python.internal import prefer_static as ps

from igr.distributions._checks import as_parameter, as_tensor, check_positive
from igr.distributions.softmax_plus_plus import AddsOneCategory, pad_last


def _tf32_matmul_possible(dtype) -> bool:
    """True when a float32 matmul may run in TensorFloat-32 (a GPU with TF32 enabled)."""
    return (
        dtype == tf.float32
        and tf.config.experimental.tensor_float_32_execution_enabled()
        and _gpu_visible()
    )


@functools.lru_cache(maxsize=None)
def _gpu_visible() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def exclusive_prefix_sums(x, include_total=False):
    """`out_k = sum_{j<k} x_j` along the last axis for k = 0..n-1 (0..n with `include_total`).

    Computed as one matmul with a constant 0/1 upper-triangular matrix: on the CPU,
    `tf.math.cumsum` along the last axis is about ten times slower for K = 10 to 50, forward
    and backward. Where a float32 matmul could run in TensorFloat-32 (10-bit mantissa), it
    falls back to `cumsum`, which is exact in float32 there and fast on a GPU.
    """
    n = x.shape[-1]
    if n is None or _tf32_matmul_possible(x.dtype):
        prefix = tf.math.cumsum(x, axis=-1, exclusive=True)
        if include_total:
            prefix = tf.concat([prefix, tf.reduce_sum(x, axis=-1, keepdims=True)], axis=-1)
        return prefix
    width = n + 1 if include_total else n
    triangle = tf.constant(np.triu(np.ones((n, width)), k=1), x.dtype)
    sums = tf.linalg.matmul(tf.reshape(x, [-1, n]), triangle)
    return tf.reshape(sums, ps.concat([ps.shape(x)[:-1], [width]], axis=0))


def log_sticks(kappa):
    """`(log v, log(1 - v))` for `v = sigmoid(kappa)`, from one softplus.

    `log(1 - v) = -softplus(kappa)` and `log v = kappa + log(1 - v)`, since
    `log v - log(1 - v) = kappa`.
    """
    log_one_minus_v = -tf.math.softplus(kappa)
    return kappa + log_one_minus_v, log_one_minus_v


def log_stick_pieces(kappa, num_categories=None):
    """`log eta` [..., K] from `kappa` [..., K-1]; with m = num_categories, entries >= m are -inf.

    With `P_k = sum_{j<k} log(1 - v_j)`, `log eta_k = log v_k + P_k` for k < K-1 (0-based) and
    the remainder is `P_{K-1}`. With m < K the remainder moves to index m-1 (`P_{m-1}`).
    """
    log_v, log_one_minus_v = log_sticks(kappa)
    prefix = exclusive_prefix_sums(log_one_minus_v, include_total=True)  # P_0..P_{K-1}
    log_pieces = prefix + pad_last(log_v)
    if num_categories is None:
        return log_pieces
    index = tf.range(ps.shape(prefix)[-1])
    neg_inf = tf.constant(-float("inf"), kappa.dtype)
    return tf.where(
        index < num_categories - 1,
        log_pieces,
        tf.where(index == num_categories - 1, prefix, neg_inf),
    )


def stick_breaking_log_det(kappa, num_categories=None):
    """`log |det d eta_{1:m-1} / d kappa_{1:m-1}|`: the sum of the m log pieces.

    Per stick the log-det is `log v_k + log(1 - v_k) + P_k`; summed over the m-1 sticks in use
    this equals `sum_{k<m} log eta_k`, because the remainder `log eta_m = P_m` is the sum of
    the `log(1 - v_k)` (`m` counts from 1 here).
    """
    return sum_first_categories(log_stick_pieces(kappa, num_categories), num_categories)


def sum_first_categories(values, num_categories=None):
    """Sum of the first m entries of the last axis (all with m None); later ones may be -inf."""
    if num_categories is None:
        return tf.reduce_sum(values, axis=-1)
    active = tf.range(ps.shape(values)[-1]) < num_categories
    return tf.reduce_sum(tf.where(active, values, tf.zeros_like(values)), axis=-1)


def tempered_softmax_log_det(log_psi, temperature, num_categories=None):
    """`log m - (m-1) log tau + sum_{k<=m} log psi_k` for the m categories in use."""
    if num_categories is None:
        num_categories = ps.shape(log_psi)[-1]
        total = tf.reduce_sum(log_psi, axis=-1)
    else:
        total = sum_first_categories(log_psi, num_categories)
    return tempered_softmax_log_det_from_sum(total, temperature, num_categories)


def tempered_softmax_log_det_from_sum(sum_log_psi, temperature, num_categories):
    """`log m - (m-1) log tau + sum_log_psi`, given the sum of log psi over the m in use."""
    m = tf.cast(num_categories, sum_log_psi.dtype)
    return tf.math.log(m) - (m - 1.0) * tf.math.log(temperature) + sum_log_psi


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
