"""Planar flow bijector with guaranteed invertibility (Rezende & Mohamed 2015, appendix A).

    f(z) = z + u_hat tanh(w.z + b),
    u_hat = u + (m(w.u) - w.u) w / ||w||^2,   m(x) = -1 + softplus(x),

so that `w.u_hat = m(w.u) > -1` and f is invertible. Dot products and norms are taken per
batch member (per discrete variable), never across variables.

    log |det df/dz| = log(1 + (1 - tanh^2(w.z + b)) w.u_hat)   (> 0 inside the log).

Inverse: `alpha = w.z` solves `alpha + (w.u_hat) tanh(alpha + b) = w.y`, whose left side is
strictly increasing in alpha; it is found by bisection on
`[w.y - |w.u_hat|, w.y + |w.u_hat|]`, then `z = y - u_hat tanh(alpha + b)`.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.bijectors import bijector as bijector_lib
from tensorflow_probability.python.internal import dtype_util, parameter_properties

from igr.distributions._checks import as_parameter, as_tensor, check_broadcastable

#: Bisection steps of the inverse; each halves the bracket, so 80 reach float64 precision.
INVERSE_BISECTION_STEPS = 80


def corrected_u(u, w):
    """`u_hat = u + (m(w.u) - w.u) w / ||w||^2`, with `m(x) = -1 + softplus(x)`."""
    w_dot_u = tf.reduce_sum(w * u, axis=-1, keepdims=True)
    w_norm_sq = tf.reduce_sum(tf.square(w), axis=-1, keepdims=True)
    m = -1.0 + tf.math.softplus(w_dot_u)
    return u + (m - w_dot_u) * w / w_norm_sq


class PlanarFlow(bijector_lib.Bijector):
    """One planar layer on R^D, applied independently to each batch member.

    Args:
      u, w: float `Tensor`s [..., D].
      b: float `Tensor` [...], the bias.
    """

    def __init__(self, u, w, b, validate_args=False, name="planar_flow"):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([u, w, b], dtype_hint=tf.float32)
            self._u = as_parameter(u, dtype, "u")
            self._w = as_parameter(w, dtype, "w")
            self._b = as_parameter(b, dtype, "b")
            check_broadcastable(("u", "w"), (self._u, self._w))
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
            u=parameter_properties.ParameterProperties(event_ndims=1),
            w=parameter_properties.ParameterProperties(event_ndims=1),
            b=parameter_properties.ParameterProperties(event_ndims=0),
        )

    @property
    def u_hat(self):
        """The corrected `u`, for which `w.u_hat > -1`."""
        return corrected_u(tf.convert_to_tensor(self._u), tf.convert_to_tensor(self._w))

    def _params(self, dtype):
        w = as_tensor(self._w, dtype)
        u_hat = corrected_u(as_tensor(self._u, dtype), w)
        b = as_tensor(self._b, dtype)[..., tf.newaxis]
        return u_hat, w, b

    def _forward(self, x):
        u_hat, w, b = self._params(x.dtype)
        return x + u_hat * tf.math.tanh(tf.reduce_sum(w * x, axis=-1, keepdims=True) + b)

    def _forward_log_det_jacobian(self, x):
        u_hat, w, b = self._params(x.dtype)
        activation = tf.math.tanh(tf.reduce_sum(w * x, axis=-1, keepdims=True) + b)
        w_dot_u_hat = tf.reduce_sum(w * u_hat, axis=-1, keepdims=True)
        return tf.math.log1p((1.0 - tf.square(activation)) * w_dot_u_hat)[..., 0]

    def _inverse(self, y):
        u_hat, w, b = self._params(y.dtype)
        c = tf.reduce_sum(w * u_hat, axis=-1, keepdims=True)
        target = tf.reduce_sum(w * y, axis=-1, keepdims=True)
        shape = tf.broadcast_dynamic_shape(tf.shape(target), tf.shape(c + b))
        low = tf.broadcast_to(target - tf.abs(c), shape)
        high = tf.broadcast_to(target + tf.abs(c), shape)

        def bisect(_, low, high):
            mid = 0.5 * (low + high)
            too_high = mid + c * tf.math.tanh(mid + b) > target
            return _ + 1, tf.where(too_high, low, mid), tf.where(too_high, mid, high)

        _, low, high = tf.while_loop(
            lambda i, *_: i < INVERSE_BISECTION_STEPS,
            bisect,
            (tf.constant(0), low, high),
        )
        alpha = 0.5 * (low + high)
        return y - u_hat * tf.math.tanh(alpha + b)
