"""Planar flow bijector with guaranteed invertibility (Rezende & Mohamed 2015, appendix A).

    f(z) = z + u_hat tanh(w.z + b),
    u_hat = u + (m(w.u) - w.u) w / ||w||^2,   m(x) = -1 + softplus(x),

so that `w.u_hat = m(w.u) > -1` and f is invertible. Dot products and norms are taken per
batch member (per discrete variable), never across variables.

    log |det df/dz| = log(1 + (1 - t^2) w.u_hat),   t = tanh(w.z + b),
                    = log(t^2 + (1 - t^2) softplus(w.u))   (> 0 inside the log),

computed in the second form from `w.u_hat = m(w.u)` directly: the dot product of the
corrected vector can round below -1 when `w.u` is strongly negative, and then the first
form is NaN. With `w = 0` (no direction) `u_hat = u`, `w.u_hat = 0`: a translation by
`u tanh(b)` with log-determinant 0.

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
    """`u_hat = u + (m(w.u) - w.u) w / ||w||^2`, with `m(x) = -1 + softplus(x)` (u if w = 0)."""
    return _corrected(u, w)[0]


def _corrected(u, w):
    """`(u_hat, w.u_hat, softplus(w.u), has_direction)`, each product per batch member."""
    w_dot_u = tf.reduce_sum(w * u, axis=-1, keepdims=True)
    w_norm_sq = tf.reduce_sum(tf.square(w), axis=-1, keepdims=True)
    has_direction = w_norm_sq > 0
    safe_norm_sq = tf.where(has_direction, w_norm_sq, tf.ones_like(w_norm_sq))
    softplus = tf.math.softplus(w_dot_u)
    m = -1.0 + softplus
    shift = tf.where(has_direction, (m - w_dot_u) / safe_norm_sq, tf.zeros_like(m))
    w_dot_u_hat = tf.where(has_direction, m, tf.zeros_like(m))
    return u + shift * w, w_dot_u_hat, softplus, has_direction


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
        u_hat, w_dot_u_hat, softplus, has_direction = _corrected(as_tensor(self._u, dtype), w)
        b = as_tensor(self._b, dtype)[..., tf.newaxis]
        return u_hat, w, b, w_dot_u_hat, softplus, has_direction

    def _forward(self, x):
        return self.forward_and_log_det(x)[0]  # a graph prunes the unused log-determinant

    def _forward_log_det_jacobian(self, x):
        return self.forward_and_log_det(x)[1]

    def forward_and_log_det(self, x):
        """`(f(x), log |det df/dx|)` from one `tanh(w.x + b)`: what `forward` and
        `forward_log_det_jacobian` return, without computing `u_hat` and `t` twice."""
        u_hat, w, b, _, softplus, has_direction = self._params(x.dtype)
        t = tf.math.tanh(tf.reduce_sum(w * x, axis=-1, keepdims=True) + b)
        t_squared = tf.square(t)
        inside = t_squared + (1.0 - t_squared) * softplus
        log_det = tf.where(has_direction, tf.math.log(inside), tf.zeros_like(inside))
        return x + u_hat * t, log_det[..., 0]

    def _inverse(self, y):
        u_hat, w, b, c, *_ = self._params(y.dtype)
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
