"""IGR-SB: stick-breaking of Gaussian noise, finite (spec 1.5) and truncated (spec 1.6).

Finite IGR-SB: `kappa ~ N(loc, diag scale^2)` in R^(K-1), pieces `eta` by stick-breaking with
the remainder as category K, `psi = softmax(eta / tau)` over all K entries. Every one of the K
categories can win the argmax (the reference code's version could never pick the last).
Its support is the part of the simplex with `|log psi_i - log psi_j| <= 1 / tau`; `log_prob`
is `-inf` outside it.

Truncated IGR-SB (countably infinite support, capped at `K_max` categories): per draw and
variable, `n = 1 + min{j : eta_1 + ... + eta_j >= threshold}`; the batch keeps
`n* = quantile_q(n)` pieces, the q-quantile over ALL draws and ALL variables, and puts the rest
of the mass into a remainder category at index `n*`, so `m = n* + 1` categories are used and
the entries after them are exactly 0. Everything stays at the static size `K_max` and is
masked, so it runs inside a compiled `tf.function`. `cap_hit` says that `n*` wanted more than
the `K_max - 1` sticks available: raise `K_max` when that happens often.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import tensorflow as tf
from tensorflow_probability.python.bijectors import chain as chain_bijector
from tensorflow_probability.python.distributions import distribution as distribution_lib
from tensorflow_probability.python.distributions import kullback_leibler, normal
from tensorflow_probability.python.distributions import transformed_distribution as td
from tensorflow_probability.python.internal import (
    dtype_util,
    parameter_properties,
    reparameterization,
    samplers,
)
from tensorflow_probability.python.internal import prefer_static as ps

from igr.distributions._checks import (
    as_parameter,
    as_tensor,
    check_broadcastable,
    check_event_size,
    check_open_unit_interval,
    check_positive,
    check_same_static,
)
from igr.distributions._sampling import gaussian_log_density, loc_scale_and_noise
from igr.distributions.argmax import DEFAULT_ARGMAX_SAMPLES, monte_carlo_argmax_probs
from igr.distributions.igr_gaussian import (
    _as_dtype,
    _gaussian_base,
    _GaussianParameters,
    _positive,
    _positive_event,
)
from igr.distributions.softmax_plus_plus import pad_last
from igr.distributions.stick_breaking import (
    StickBreaking,
    TemperedSoftmax,
    exclusive_prefix_sums,
    log_stick_pieces,
    log_sticks,
    sum_first_categories,
    tempered_softmax_log_det,
    tempered_softmax_log_det_from_sum,
)


class IGRSB(_GaussianParameters, td.TransformedDistribution):
    """Finite IGR-SB over K categories.

    Args:
      loc, scale: float `Tensor`s [..., K-1] of the sticks' Gaussian logits.
      temperature: `tau > 0`.
    """

    def __init__(
        self, loc, scale, temperature, validate_args=False, allow_nan_stats=True, name="IGRSB"
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, scale], dtype_hint=tf.float32)
            bijector = chain_bijector.Chain(
                [
                    TemperedSoftmax(_as_dtype(temperature, dtype), validate_args),
                    StickBreaking(validate_args),
                ],
                validate_args=validate_args,
            )
            super().__init__(
                distribution=_gaussian_base(loc, scale, validate_args),
                bijector=bijector,
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
        )

    @property
    def temperature(self):
        return self.bijector.bijectors[0].temperature

    @property
    def num_categories(self) -> int:
        return int(self.event_shape[-1])

    def _log_prob(self, psi):
        # Through kappa = bijector^-1(psi) (cached for this distribution's own samples), so
        # the log-determinant is computed from kappa, never from log psi. Outside the
        # support some stick piece is negative, kappa is NaN, and the density is 0.
        kappa = self.bijector.inverse(psi)
        in_support = tf.reduce_all(tf.math.is_finite(kappa), axis=-1)
        safe_kappa = tf.where(in_support[..., tf.newaxis], kappa, tf.zeros_like(kappa))
        log_prob = self.distribution.log_prob(safe_kappa) - self.bijector.forward_log_det_jacobian(
            safe_kappa, event_ndims=1
        )
        return tf.where(in_support, log_prob, tf.constant(-float("inf"), log_prob.dtype))

    def sample_argmax(self, n, seed=None):
        """Argmax categories [n, ...]: argmax of psi is the argmax of the pieces."""
        kappa = self.distribution.sample(n, seed=seed)
        return tf.argmax(log_stick_pieces(kappa), axis=-1, output_type=tf.int32)

    def argmax_probs(self, num_samples=DEFAULT_ARGMAX_SAMPLES, seed=None):
        """Monte-Carlo argmax law [..., K] from `num_samples` draws (no closed form)."""
        return monte_carlo_argmax_probs(self.sample_argmax, self.num_categories, num_samples, seed)


class TruncatedSample(NamedTuple):
    """One batch of truncated IGR-SB draws and the truncation that was applied."""

    psi: tf.Tensor  # [..., K_max], zeros after the m categories in use
    log_psi: tf.Tensor  # [..., K_max], log psi without underflow (-inf after m)
    kappa: tf.Tensor  # [..., K_max - 1], the Gaussian draws
    pieces: tf.Tensor  # [..., K_max], eta with the remainder at index m - 1
    num_categories: tf.Tensor  # scalar int32 m = n* + 1 used by this batch
    cap_hit: tf.Tensor  # scalar bool: the quantile wanted more than K_max - 1 sticks


def truncation_num_categories(log_prefix, threshold, quantile, max_categories):
    """`(m, cap_hit)`: categories kept for a batch, from the untruncated `P` [..., K_max].

    `P_j = sum_{i<j} log(1 - v_i)` (j = 0..K_max-1), so the first j pieces hold the mass
    `S_j = 1 - exp(P_j)`. Per draw and variable,
    `n = 1 + min{j >= 1 : S_j >= threshold}`, or `K_max` when the threshold is never reached;
    as P never increases, `n = min(1 + #{j : P_j > log(1 - threshold)}, K_max)`. `n*` is the
    q-quantile of n over every draw and variable (the 'higher' one: element
    `r = ceil(q (N - 1))` of the sorted n), capped at K_max - 1, and `m = n* + 1`.

    n takes the values 1..K_max, so element r of the sorted n is found by counting, not
    sorting: it is the smallest v with `#{n <= v} > r` (O(N) instead of O(N log N): the MC
    argmax law of the bound draws 10^6 n per chunk, where the sort took a third of the time).
    """
    unreached = tf.cast(log_prefix > math.log1p(-threshold), tf.int32)
    n = tf.minimum(tf.reduce_sum(unreached, axis=-1) + 1, max_categories)
    flat = tf.reshape(n, [-1])
    counts = tf.math.unsorted_segment_sum(tf.ones_like(flat), flat, max_categories + 1)
    rank = tf.cast(tf.math.ceil(quantile * tf.cast(tf.size(flat) - 1, tf.float32)), tf.int32)
    n_star = tf.argmax(tf.cast(tf.cumsum(counts) > rank, tf.int32), output_type=tf.int32)
    cap_hit = n_star > max_categories - 1
    return tf.minimum(n_star, max_categories - 1) + 1, cap_hit


class TruncatedIGRSB(distribution_lib.AutoCompositeTensorDistribution):
    """Truncated IGR-SB with a cap of `K_max` categories (event size `K_max`).

    Args:
      loc, scale: float `Tensor`s [..., K_max - 1].
      temperature: `tau > 0`.
      threshold: stick mass that decides truncation, in (0, 1) (reference 0.9 to 0.99).
      quantile: q in (0, 1] over draws and variables (reference 0.5 to 0.75).

    `sample` returns psi; `sample_with_truncation` also returns how many categories the batch
    used and whether the cap was hit. `log_prob(psi, num_categories=m)` and `truncated_kl`
    evaluate the finite IGR-SB of the first m categories; without `num_categories`, all
    `K_max` are used.
    """

    def __init__(
        self,
        loc,
        scale,
        temperature,
        threshold=0.9,
        quantile=0.75,
        validate_args=False,
        allow_nan_stats=True,
        name="TruncatedIGRSB",
    ):
        parameters = dict(locals())
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, scale], dtype_hint=tf.float32)
            check_event_size("loc", loc, 1, "K_max - 1")
            check_broadcastable(("loc", "scale"), (loc, scale))
            check_positive("scale", scale)
            check_positive("temperature", temperature)
            self._threshold = check_open_unit_interval("threshold", threshold)
            self._quantile = check_open_unit_interval("quantile", quantile, include_one=True)
            self._loc = as_parameter(loc, dtype, "loc")
            self._scale = as_parameter(scale, dtype, "scale")
            self._temperature = _as_dtype(temperature, dtype)
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
            loc=parameter_properties.ParameterProperties(event_ndims=1),
            scale=_positive_event(),
            temperature=_positive(),
        )

    @property
    def loc(self):
        return self._loc

    @property
    def scale(self):
        return self._scale

    @property
    def temperature(self):
        return self._temperature

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def quantile(self) -> float:
        return self._quantile

    @property
    def max_categories(self) -> int:
        return int(self._loc.shape[-1]) + 1

    def _event_shape(self):
        return tf.TensorShape([self.max_categories])

    def _event_shape_tensor(self):
        return tf.constant([self.max_categories], tf.int32)

    def _gaussian(self):
        return normal.Normal(self._loc, self._scale)

    def _draw(self, sample_shape, seed):
        """One pass: draws, truncation, psi and the log density under that truncation.

        With `P_k = sum_{j<k} log(1 - v_j)` (k = 0..K_max-1), the kept pieces are
        `log eta_k = log v_k + P_k` for k < m - 1, the remainder at index m - 1 is `P_{m-1}`
        and later entries are empty. The log density of the finite IGR-SB of those m
        categories is `sum_{k<m-1} log N(kappa_k) - sum_{k<m} log eta_k` (the stick-breaking
        log-det) minus the tempered-softmax term `log m - (m-1) log tau + sum_{k<m} log psi_k`.
        TensorFlow's autodiff differentiates it (a hand-written gradient was no faster in
        the VAE step: README, "Fused samplers").
        """
        loc, scale, noise = loc_scale_and_noise(
            tf.convert_to_tensor(self._loc), tf.convert_to_tensor(self._scale), sample_shape, seed
        )
        temperature = as_tensor(self._temperature, loc.dtype)
        kappa, log_v, prefix = _truncated_sticks(loc, scale, noise)
        m, cap_hit = truncation_num_categories(
            tf.stop_gradient(prefix), self._threshold, self._quantile, self.max_categories
        )
        psi, pieces, log_prob = _truncated_density(log_v, prefix, noise, scale, m, temperature)
        logits = tf.where(
            tf.range(self.max_categories) <= m - 1,
            pieces * tf.math.reciprocal(temperature)[..., tf.newaxis],
            tf.constant(-float("inf"), pieces.dtype),
        )
        log_psi = tf.math.log_softmax(logits, axis=-1)  # pruned from graphs that do not use it
        return TruncatedSample(psi, log_psi, kappa, pieces, m, cap_hit), log_prob

    def sample_with_truncation(self, sample_shape=(), seed=None) -> TruncatedSample:
        """Draw, choose the truncation for the whole batch, and apply it."""
        return self._draw(sample_shape, samplers.sanitize_seed(seed))[0]

    def _sample_n(self, n, seed=None):
        return self._draw([n], seed)[0].psi

    def _sample_and_log_prob(self, sample_shape, seed, **kwargs):
        """Draws and their log density under the batch's own truncation (m categories)."""
        draws, log_prob = self._draw(sample_shape, samplers.sanitize_seed(seed))
        return draws.psi, log_prob

    def _log_prob(self, psi, num_categories=None):
        m = self.max_categories if num_categories is None else num_categories
        kappa = _truncated_inverse(psi, as_tensor(self._temperature, psi.dtype), m)
        in_support = tf.reduce_all(tf.math.is_finite(kappa), axis=-1)
        safe_kappa = tf.where(in_support[..., tf.newaxis], kappa, tf.zeros_like(kappa))
        active = tf.range(self.max_categories - 1) < m - 1
        log_normal = tf.reduce_sum(
            tf.where(active, self._gaussian().log_prob(safe_kappa), 0.0), axis=-1
        )
        tau = as_tensor(self._temperature, psi.dtype)
        log_pieces = log_stick_pieces(safe_kappa, num_categories=m)
        log_psi = tf.math.log_softmax(log_pieces_to_logits(log_pieces, tau[..., None]), axis=-1)
        log_det = sum_first_categories(log_pieces, m) + tempered_softmax_log_det(log_psi, tau, m)
        log_prob = log_normal - log_det
        return tf.where(in_support, log_prob, tf.constant(-float("inf"), log_prob.dtype))

    def truncated_kl(self, other: "TruncatedIGRSB", num_categories):
        """Closed-form KL to `other` over the first `num_categories - 1` sticks [...]."""
        _check_same_temperature(self, other)
        per_stick = kullback_leibler.kl_divergence(self._gaussian(), other._gaussian())
        active = tf.range(self.max_categories - 1) < num_categories - 1
        return tf.reduce_sum(tf.where(active, per_stick, tf.zeros_like(per_stick)), axis=-1)

    def sample_argmax(self, n, seed=None):
        """Argmax categories [n, ...] of `n` truncated draws (one truncation for all n)."""
        draws = self.sample_with_truncation([n], seed=seed)
        return tf.argmax(draws.pieces, axis=-1, output_type=tf.int32)

    def argmax_probs(self, num_samples=DEFAULT_ARGMAX_SAMPLES, seed=None):
        """Monte-Carlo argmax law [..., K_max] from `num_samples` truncated draws."""
        return monte_carlo_argmax_probs(self.sample_argmax, self.max_categories, num_samples, seed)


def _truncation_masks(m, size, dtype):
    """0/1 masks [size] of the m categories in use and of the m - 1 kept sticks."""
    index = tf.range(size)
    return tf.cast(index <= m - 1, dtype), tf.cast(index < m - 1, dtype)


def _truncated_sticks(loc, scale, noise):
    """`(kappa, log v, P)`: `kappa = loc + scale * noise`, `P_k = sum_{j<k} log(1 - v_j)`."""
    kappa = loc + scale * noise
    log_v, log_one_minus_v = log_sticks(kappa)
    return kappa, log_v, exclusive_prefix_sums(log_one_minus_v, include_total=True)


def _truncated_density(log_v, prefix, noise, scale, m, temperature):
    """`(psi, eta, log p)` under the truncation to m categories (see `TruncatedIGRSB._draw`)."""
    active, kept = _truncation_masks(m, prefix.shape[-1], prefix.dtype)
    log_pieces = prefix + pad_last(log_v) * kept
    pieces = tf.math.exp(log_pieces) * active
    logits = tf.where(
        active > 0,
        pieces * tf.math.reciprocal(temperature)[..., tf.newaxis],
        tf.constant(-float("inf"), prefix.dtype),
    )
    log_psi = tf.math.log_softmax(logits, axis=-1)
    sum_log_psi = tf.reduce_sum(tf.where(active > 0, log_psi, tf.zeros_like(log_psi)), axis=-1)
    log_prob = (
        gaussian_log_density(noise, scale, active=kept[:-1] > 0)
        - tf.reduce_sum(log_pieces * active, axis=-1)
        - tempered_softmax_log_det_from_sum(sum_log_psi, temperature, m)
    )
    return tf.math.exp(log_psi), pieces, log_prob


def log_pieces_to_logits(log_pieces, temperature):
    """Logits `eta / tau` of the tempered softmax; empty categories (-inf) stay -inf."""
    pieces = tf.math.exp(log_pieces)
    return tf.where(tf.math.is_inf(log_pieces), log_pieces, pieces / temperature)


def _truncated_inverse(psi, temperature, num_categories):
    """kappa [..., K_max - 1] with psi's first m entries mapped back; the rest is 0."""
    k_max = ps.shape(psi)[-1]
    index = tf.range(k_max)
    active = index < num_categories
    log_psi = tf.math.log(tf.where(active, psi, tf.ones_like(psi)))
    log_last = tf.gather(log_psi, num_categories - 1, axis=-1)[..., tf.newaxis]
    c = temperature[..., tf.newaxis] * (log_psi - log_last)
    pieces_only = index < num_categories - 1
    c = tf.where(pieces_only, c, tf.zeros_like(c))
    m = tf.cast(num_categories, psi.dtype)
    remainder = (1.0 - tf.reduce_sum(c, axis=-1, keepdims=True)) / m
    eta = tf.where(pieces_only, c + remainder, tf.where(active, remainder, tf.zeros_like(c)))
    tail = tf.math.cumsum(eta, axis=-1, reverse=True, exclusive=True)
    kappa = tf.math.log(eta[..., :-1]) - tf.math.log(tail[..., :-1])
    return tf.where(pieces_only[:-1], kappa, tf.zeros_like(kappa))


def _check_same_temperature(q, p):
    check_same_static(
        "temperature", q.temperature, p.temperature, "The closed-form IGR-SB KL needs one map"
    )
