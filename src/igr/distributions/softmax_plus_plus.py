"""The softmax++ bijector: the invertible map of IGR from R^(K-1) onto the K-simplex.

For `lambda` in R^(K-1), temperature `tau > 0` and `delta > 0`:

    psi_k = exp(lambda_k / tau) / (sum_{j<K} exp(lambda_j / tau) + delta),   k < K
    psi_K = delta             / (sum_{j<K} exp(lambda_j / tau) + delta)

computed as `softmax([lambda / tau, log delta])`, so the maximum is subtracted. Inverse:
`lambda_k = tau * (log psi_k - log psi_K + log delta)`.

Reference measure. A density on the simplex is taken with respect to Lebesgue measure on
its first K-1 coordinates `psi_{1:K-1}` (the Concrete density of Maddison et al. uses the
same convention, so GS and IGR densities are comparable). With that convention

    log |det d psi_{1:K-1} / d lambda| = -(K-1) log tau + sum_{k=1..K} log psi_k.

TFP's `SoftmaxCentered` measures the simplex with its (K-1)-dimensional surface measure
instead, which adds the constant `0.5 log K` to the log-determinant:
`SoftmaxPlusPlus(tau, delta) == SoftmaxCentered() o Shift(-log delta) o Scale(1 / tau)`
in value, and their log-determinants differ by exactly `0.5 log K`.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector as bijector_lib
from tensorflow_probability.python.bijectors import softplus as softplus_bijector
from tensorflow_probability.python.internal import (
    dtype_util,
    parameter_properties,
    tensor_util,
)
from tensorflow_probability.python.internal import (
    prefer_static as ps,
)

from igr.distributions._checks import as_parameter, as_tensor, check_positive


class AddsOneCategory:
    """Event shapes of a bijector from R^(K-1) onto the K-simplex (the event grows by one)."""

    def _forward_event_shape(self, input_shape):
        if input_shape.rank is None or input_shape[-1] is None:
            return input_shape
        return input_shape[:-1].concatenate([input_shape[-1] + 1])

    def _forward_event_shape_tensor(self, input_shape):
        return ps.concat([input_shape[:-1], [input_shape[-1] + 1]], axis=0)

    def _inverse_event_shape(self, output_shape):
        if output_shape.rank is None or output_shape[-1] is None:
            return output_shape
        return output_shape[:-1].concatenate([output_shape[-1] - 1])

    def _inverse_event_shape_tensor(self, output_shape):
        return ps.concat([output_shape[:-1], [output_shape[-1] - 1]], axis=0)


def _positive_parameter():
    return parameter_properties.ParameterProperties(
        default_constraining_bijector_fn=lambda: softplus_bijector.Softplus()
    )


def softmax_plus_plus_logits(x, temperature, delta):
    """The K logits `[x / tau, log delta]` whose softmax is softmax++(x)."""
    scaled = x / temperature[..., tf.newaxis]
    pivot = tf.broadcast_to(
        tf.math.log(delta)[..., tf.newaxis],
        ps.concat([ps.shape(scaled)[:-1], [1]], axis=0),
    )
    return tf.concat([scaled, pivot], axis=-1)


def pad_last(x, value=0.0):
    """`x` [..., n] with one more entry `value` at the end of the last axis."""
    rank = x.shape.rank
    if rank is None:
        end = tf.fill(ps.concat([ps.shape(x)[:-1], [1]], axis=0), tf.cast(value, x.dtype))
        return tf.concat([x, end], axis=-1)
    return tf.pad(x, [[0, 0]] * (rank - 1) + [[0, 1]], constant_values=value)


class SoftmaxPlusPlus(AddsOneCategory, bijector_lib.Bijector):
    """`psi = softmax++_tau(lambda)`, from R^(K-1) to the K-simplex (event size K-1 -> K).

    Args:
      temperature: positive float `Tensor`, `tau`; broadcasts against the batch shape.
      delta: positive float `Tensor`, the weight of the pivot category (reference: 1).
    """

    def __init__(self, temperature, delta=1.0, validate_args=False, name="softmax_plus_plus"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            # Python numbers keep no dtype, so the bijector then accepts float32 and float64.
            dtype = dtype_util.common_dtype([temperature, delta])
            self._temperature = as_parameter(temperature, dtype, "temperature")
            self._delta = as_parameter(delta, dtype, "delta")
            check_positive("temperature", self._temperature)
            check_positive("delta", self._delta)
            super().__init__(
                forward_min_event_ndims=1,
                validate_args=validate_args,
                parameters=parameters,
                dtype=dtype,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype):
        return dict(temperature=_positive_parameter(), delta=_positive_parameter())

    @property
    def temperature(self):
        return self._temperature

    @property
    def delta(self):
        return self._delta

    def _logits(self, x):
        return softmax_plus_plus_logits(
            x, as_tensor(self._temperature, x.dtype), as_tensor(self._delta, x.dtype)
        )

    def _forward(self, x):
        return tf.math.softmax(self._logits(x), axis=-1)

    def _inverse(self, y):
        with tf.control_dependencies(self._assertions_on_y(y)):
            log_y = tf.math.log(y)
        temperature = as_tensor(self._temperature, y.dtype)[..., tf.newaxis]
        log_delta = tf.math.log(as_tensor(self._delta, y.dtype))[..., tf.newaxis]
        return temperature * (log_y[..., :-1] - log_y[..., -1:] + log_delta)

    def _forward_log_det_jacobian(self, x):
        # -(K-1) log tau + sum_{k=1..K} log psi_k, with log psi from log_softmax (stable).
        # The inverse log-det is -fldj(inverse(y)); TFP reuses the cached `x` of a sample.
        num_coordinates = ps.cast(ps.shape(x)[-1], x.dtype)
        log_psi = tf.math.log_softmax(self._logits(x), axis=-1)
        log_temperature = tf.math.log(as_tensor(self._temperature, x.dtype))
        return -num_coordinates * log_temperature + tf.reduce_sum(log_psi, axis=-1)

    def _assertions_on_y(self, y):
        if not self.validate_args:
            return []
        return [
            tf.debugging.assert_non_negative(y, message="`y` must lie on the simplex."),
            tf.debugging.assert_near(
                tf.reduce_sum(y, axis=-1),
                tf.ones([], y.dtype),
                rtol=1e-4,
                message="The last axis of `y` must sum to 1.",
            ),
        ]

    def _parameter_control_dependencies(self, is_init):
        if not self.validate_args:
            return []
        assertions = []
        for name, value in (("temperature", self._temperature), ("delta", self._delta)):
            if is_init != tensor_util.is_ref(value):
                assertions.append(
                    tf.debugging.assert_positive(value, message=f"`{name}` must be > 0.")
                )
        return assertions
