"""IGR-I and IGR-Planar: Gaussian noise pushed through softmax++ (spec 1.3, 1.4).

IGR-I:      kappa ~ N(loc, diag scale^2) in R^(K-1),  psi = softmax++_tau(kappa).
IGR-Planar: kappa as above, lambda = f_L(...f_1(kappa)) with planar layers,
            psi = softmax++_tau(lambda).

`scale` is the standard deviation itself; networks produce it with softplus (or exp) of an
unconstrained output. Densities of `psi` are with respect to Lebesgue measure on
`psi_{1:K-1}` (see `softmax_plus_plus`). Both classes are `TransformedDistribution`s whose
`distribution` is the law of `lambda`, so a KL between two IGR laws that share softmax++
is computed in lambda space, where it is exact and numerically safe.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.bijectors import chain as chain_bijector
from tensorflow_probability.python.bijectors import softplus as softplus_bijector
from tensorflow_probability.python.distributions import independent, normal
from tensorflow_probability.python.distributions import transformed_distribution as td
from tensorflow_probability.python.internal import dtype_util, parameter_properties, samplers

from igr.distributions._checks import (
    check_broadcastable,
    check_event_size,
    check_positive,
    static_shape,
)
from igr.distributions._sampling import gaussian_log_density, loc_scale_and_noise
from igr.distributions.argmax import (
    DEFAULT_ARGMAX_SAMPLES,
    igr_i_argmax_probs,
    monte_carlo_argmax_probs,
)
from igr.distributions.planar import PlanarFlow
from igr.distributions.softmax_plus_plus import (
    SoftmaxPlusPlus,
    softmax_plus_plus_logits,
)


def _positive():
    return parameter_properties.ParameterProperties(
        default_constraining_bijector_fn=lambda: softplus_bijector.Softplus()
    )


class GaussianBase(independent.Independent):
    """`N(loc, diag scale^2)` on R^(K-1) (`Independent(Normal(loc, scale), 1)`) whose draws
    are `loc + scale * z`, `z` from :func:`igr.distributions._sampling.standard_normal`
    (Box-Muller on :func:`igr.distributions.noise.uniform`), like IGR-I's own draws.

    TFP's `Normal.sample` draws `tf.random.stateless_normal`, which inside the XLA training
    step runs XLA's slow CPU random-number kernels instead of reading the step's noise pool
    (:mod:`igr.distributions.noise`); IGR-Planar's lambda is drawn through this base. This
    and the one-pass lambda law below took IGR-Planar's XLA step from 0.70-0.78x to 0.86x
    of the dense floor (README, "Benchmarks"). Densities are TFP's.
    """

    def loc_scale_and_noise(self, sample_shape, seed):
        """`(loc, scale, noise)` of one shape P (noise: sample + P, from a sanitized seed)."""
        normal_law = self.distribution
        return loc_scale_and_noise(
            tf.convert_to_tensor(normal_law.loc),
            tf.convert_to_tensor(normal_law.scale),
            sample_shape,
            seed,
        )

    def _sample_n(self, n, seed=None):
        loc, scale, noise = self.loc_scale_and_noise([n], samplers.sanitize_seed(seed))
        return loc + scale * noise


class _PlanarLambdaLaw(td.TransformedDistribution):
    """The law of lambda = f_L(...f_1(kappa)), kappa ~ :class:`GaussianBase`; `bijector` is
    the `Chain` of planar layers. Its draws with their log density,

        log q(lambda) = log N(kappa; loc, scale) - sum_l log |det df_l/dz|,

    go through the layers once (:meth:`PlanarFlow.forward_and_log_det`), with the Gaussian
    density from the noise (:func:`gaussian_log_density`); TFP's composition computes each
    layer's parameters and `tanh` again for the log-determinant. Same draws as `sample`."""

    def _sample_and_log_prob(self, sample_shape, seed, **kwargs):
        loc, scale, noise = self.distribution.loc_scale_and_noise(
            sample_shape, samplers.sanitize_seed(seed)
        )
        value, log_prob = loc + scale * noise, gaussian_log_density(noise, scale)
        for layer in reversed(self.bijector.bijectors):  # Chain applies its last one first
            value, log_det = layer.forward_and_log_det(value)
            log_prob = log_prob - log_det
        return value, log_prob


def _gaussian_base(loc, scale, validate_args):
    check_event_size("loc", loc, 1, "the number of categories K minus 1")
    check_broadcastable(("loc", "scale"), (loc, scale))
    check_positive("scale", scale)
    return GaussianBase(
        normal.Normal(loc, scale, validate_args=validate_args), reinterpreted_batch_ndims=1
    )


class _GaussianParameters:
    """`loc`, `scale` and draws of a family whose `distribution` is a :class:`GaussianBase`."""

    @property
    def loc(self):
        return self.distribution.distribution.loc

    @property
    def scale(self):
        return self.distribution.distribution.scale

    def _call_sample_n(self, sample_shape, seed, **kwargs):
        # The draws of `experimental_sample_and_log_prob` with the same seed. The bijector
        # comes last, so its cache maps these psi back to the Gaussian draws exactly.
        loc, scale, noise = self.distribution.loc_scale_and_noise(
            sample_shape, samplers.sanitize_seed(seed)
        )
        return self.bijector.forward(loc + scale * noise)

    def _sample_and_log_prob(self, sample_shape, seed, **kwargs):
        # TFP's composition on the draws of `sample` (same seed, same psi): the Gaussian
        # density of the draw minus the bijector's log-determinant at it, never via log psi.
        loc, scale, noise = self.distribution.loc_scale_and_noise(
            sample_shape, samplers.sanitize_seed(seed)
        )
        kappa = loc + scale * noise
        log_det = self.bijector.forward_log_det_jacobian(kappa, event_ndims=1)
        return self.bijector.forward(kappa), gaussian_log_density(noise, scale) - log_det


class _SoftmaxPlusPlusFamily(td.TransformedDistribution):
    """Shared behaviour: argmax of psi is argmax of `[lambda, tau log delta]`."""

    @property
    def temperature(self):
        return self.bijector.temperature

    @property
    def delta(self):
        return self.bijector.delta

    @property
    def num_categories(self) -> int:
        return int(self.event_shape[-1])

    def _argmax_threshold(self, dtype):
        temperature = tf.convert_to_tensor(self.bijector.temperature, dtype)
        return temperature * tf.math.log(tf.convert_to_tensor(self.bijector.delta, dtype))

    def sample_argmax(self, n, seed=None):
        """Argmax categories [n, ...] of `n` draws (no softmax needed: it keeps the order)."""
        lam = self.distribution.sample(n, seed=seed)
        logits = softmax_plus_plus_logits(
            lam, tf.ones([], lam.dtype), tf.math.exp(self._argmax_threshold(lam.dtype))
        )
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def monte_carlo_argmax_probs(self, num_samples=DEFAULT_ARGMAX_SAMPLES, seed=None):
        """Argmax frequencies [..., K] over `num_samples` draws."""
        return monte_carlo_argmax_probs(self.sample_argmax, self.num_categories, num_samples, seed)


class IGRI(_GaussianParameters, _SoftmaxPlusPlusFamily):
    """IGR-I: `psi = softmax++_tau(kappa)`, `kappa ~ N(loc, diag scale^2)`.

    Args:
      loc, scale: float `Tensor`s [..., K-1] (scale > 0 is the standard deviation).
      temperature: `tau > 0`.
      delta: weight of the pivot category K (reference: 1).
    """

    def __init__(
        self,
        loc,
        scale,
        temperature,
        delta=1.0,
        validate_args=False,
        allow_nan_stats=True,
        name="IGRI",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, scale], dtype_hint=tf.float32)
            base = _gaussian_base(loc, scale, validate_args)
            super().__init__(
                distribution=base,
                bijector=SoftmaxPlusPlus(
                    _as_dtype(temperature, dtype), _as_dtype(delta, dtype), validate_args
                ),
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            loc=parameter_properties.ParameterProperties(event_ndims=1),
            scale=_positive_event(),
            temperature=_positive(),
            delta=_positive(),
        )

    def argmax_probs(self, num_samples=None, seed=None, jit_compile: bool = False):
        """Exact argmax law [..., K] (spec 1.3); `num_samples` and `seed` are ignored;
        ``jit_compile``: the quadrature with XLA (:func:`igr_i_argmax_probs`)."""
        del num_samples, seed
        loc = tf.convert_to_tensor(self.loc)
        return igr_i_argmax_probs(
            loc, self.scale, self._argmax_threshold(loc.dtype), jit_compile=jit_compile
        )


class IGRPlanar(_SoftmaxPlusPlusFamily):
    """IGR-Planar: planar layers between the Gaussian and softmax++ (spec 1.4).

    Args:
      loc, scale: float `Tensor`s [..., K-1].
      temperature: `tau > 0`.
      flow_u, flow_w: float `Tensor`s [..., L, K-1], one row per planar layer (applied in order).
      flow_b: float `Tensor` [..., L].
      delta: weight of the pivot category K.
    """

    def __init__(
        self,
        loc,
        scale,
        temperature,
        flow_u,
        flow_w,
        flow_b,
        delta=1.0,
        validate_args=False,
        allow_nan_stats=True,
        name="IGRPlanar",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, scale, flow_u, flow_w, flow_b], tf.float32)
            flow_u = tf.convert_to_tensor(flow_u, dtype)
            flow_w = tf.convert_to_tensor(flow_w, dtype)
            flow_b = tf.convert_to_tensor(flow_b, dtype)
            _check_flow_shapes(loc, flow_u, flow_w, flow_b)
            layers = [
                PlanarFlow(flow_u[..., i, :], flow_w[..., i, :], flow_b[..., i], validate_args)
                for i in range(flow_u.shape[-2])
            ]
            # Chain applies its last bijector first.
            flow = chain_bijector.Chain(list(reversed(layers)), validate_args=validate_args)
            lambda_law = _PlanarLambdaLaw(
                _gaussian_base(loc, scale, validate_args), flow, validate_args=validate_args
            )
            super().__init__(
                distribution=lambda_law,
                bijector=SoftmaxPlusPlus(
                    _as_dtype(temperature, dtype), _as_dtype(delta, dtype), validate_args
                ),
                validate_args=validate_args,
                parameters=parameters,
                name=name,
            )

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(
            loc=parameter_properties.ParameterProperties(event_ndims=1),
            scale=_positive_event(),
            temperature=_positive(),
            flow_u=parameter_properties.ParameterProperties(event_ndims=2),
            flow_w=parameter_properties.ParameterProperties(event_ndims=2),
            flow_b=parameter_properties.ParameterProperties(event_ndims=1),
            delta=_positive(),
        )

    def argmax_probs(self, num_samples=DEFAULT_ARGMAX_SAMPLES, seed=None):
        """Monte-Carlo argmax law [..., K] from `num_samples` draws (no closed form)."""
        return self.monte_carlo_argmax_probs(num_samples, seed)


def _positive_event():
    return parameter_properties.ParameterProperties(
        event_ndims=1,
        default_constraining_bijector_fn=lambda: softplus_bijector.Softplus(),
    )


def _as_dtype(value, dtype):
    if isinstance(value, (int, float)):
        return tf.constant(value, dtype)
    return value


def _check_flow_shapes(loc, flow_u, flow_w, flow_b):
    if flow_u.shape.rank is None or flow_u.shape.rank < 2:
        raise ValueError(f"`flow_u` must have shape [..., L, K-1], got {flow_u.shape}.")
    if flow_u.shape[-2:] != flow_w.shape[-2:]:
        raise ValueError(
            f"`flow_u` and `flow_w` must share their last two axes [L, K-1], "
            f"got {flow_u.shape} and {flow_w.shape}."
        )
    loc_shape = static_shape(loc)
    loc_size = loc_shape[-1] if loc_shape.rank else None
    if loc_size is not None and flow_u.shape[-1] != loc_size:
        raise ValueError(
            f"`flow_u` has last axis {flow_u.shape[-1]} but `loc` has {loc_size} (K-1)."
        )
    if flow_b.shape.rank is None or flow_b.shape[-1:] != flow_u.shape[-2:-1]:
        raise ValueError(
            f"`flow_b` must have shape [..., L] with L = {flow_u.shape[-2]}, got {flow_b.shape}."
        )
