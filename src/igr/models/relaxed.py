"""The one family builder: network outputs and prior files to relaxed distributions.

Every stage builds a family here, by the name it has in :mod:`igr.families`:

- :func:`distribution`: the family from its (constrained) parameters: GS from ``logits``
  [..., K]; IGR-I and IGR-SB from ``loc`` and ``scale`` [..., K-1]; IGR-Planar from ``loc``,
  ``scale`` and the planar flow (:class:`PlanarFlowParameters`); truncated IGR-SB from
  ``loc``, ``scale`` [..., K_max - 1] and a :class:`Truncation`.
- :func:`posterior`: from raw outputs [..., V, P] of a network, one row of P numbers per
  discrete variable (``P = num_parameters(family, K)``): GS reads K logits (or K - 1 with
  ``gs_pivot``, the last logit pinned at 0), and so do ST-GS and ReinMax, whose relaxation
  and prior are GS's (their one-hot VAE forward value is :class:`igr.models.latent.Latent`'s
  business); the IGR families read ``K - 1`` locs, then
  ``K - 1`` pre-scales, ``scale = softplus(pre-scale)``.
- :func:`prior`: the learned uniform prior of a family (its priors-stage record, spec 2),
  broadcast over V variables. The record holds the parameters of the family's
  ``prior_family`` (IGR-Planar's prior is IGR-I's, spec 1.4).
- :func:`one_hot_sample`: the one-hot forward value of ST-GS and ReinMax with its gradient,
  read by the VAE latent and the SOP units.

The training KL of a posterior against its prior is :func:`igr.distributions.sample_and_kl`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow_probability.python.internal import samplers

from igr.distributions import (
    IGRI,
    IGRSB,
    GumbelSoftmax,
    IGRPlanar,
    TruncatedIGRSB,
    straight_through,
)
from igr.distributions.estimators import categorical_sample, reinmax_one_hot
from igr.families import get_family

#: Scale of the planar flow's initial ``u`` and ``w``: ``0.01 * N(0, 1)`` entries (module docs).
PLANAR_INIT_SCALE = 0.01


@dataclass(frozen=True)
class Truncation:
    """Settings of truncated IGR-SB (spec 1.6): stick mass and quantile over the batch."""

    threshold: float = 0.9
    quantile: float = 0.75


class PlanarFlowParameters(tf.Module):
    """Global (not amortised) planar flow parameters of IGR-Planar, trained with the networks.

    ``u, w`` [*shape, L, D] start at ``0.01 * N(0, 1)`` entries drawn from two stateless seeds
    split from ``seed``; ``b`` [*shape, L] starts at 0. ``shape`` is the discrete variables
    (V for the VAE latent, the units of an SOP layer), D = K - 1. At the start the corrected
    ``u_hat`` (:mod:`igr.distributions.planar`) makes each layer close to the linear map
    ``z - 0.31 (w.z) w / ||w||^2`` whatever the scale; a smaller scale keeps it linear over a
    wider range. Measured when the VAE and SOP inits were merged (two seeds each): the SOP
    test net at ``0.1 N(0, 1)`` lost ground for three epochs (21.2 -> 24.4 nats) before
    learning, at 0.01 it learned from the start (24.1 -> 13.4); on the digits VAE 0.01 was
    ahead too (test ELBO -24.8 and -24.6 against -25.2 and -25.1 after 15 epochs).
    """

    def __init__(self, shape: Sequence[int], layers: int, dims: int, seed, name="planar_flow"):
        super().__init__(name=name)
        full = [*shape, int(layers), int(dims)]
        u_seed, w_seed = samplers.split_seed(seed, n=2)
        self.u = tf.Variable(PLANAR_INIT_SCALE * tf.random.stateless_normal(full, u_seed), name="u")
        self.w = tf.Variable(PLANAR_INIT_SCALE * tf.random.stateless_normal(full, w_seed), name="w")
        self.b = tf.Variable(tf.zeros(full[:-1]), name="b")


def one_hot_sample(family: str, q, temperature, seed) -> tf.Tensor:
    """The exactly one-hot value [..., K] of a family whose :attr:`Family.forward` is not
    ``relaxed``, with its estimator's gradient, from its GS distribution ``q``: ST-GS
    ``one_hot(argmax psi)``, psi ~ q, gradient of psi (``straight_through``); ReinMax an exact
    ``D ~ Cat(softmax(logits))`` with the ReinMax backward (``reinmax_one_hot``)."""
    forward = get_family(family).forward
    if forward == "st_gs":
        return straight_through(q.sample(seed=seed))
    if forward == "reinmax":
        logits = tf.convert_to_tensor(q.logits)
        return reinmax_one_hot(logits, categorical_sample(logits, seed), temperature)
    raise ValueError(f"{family} has no one-hot forward value (forward {forward!r})")


def num_parameters(family: str, num_categories: int, *, gs_pivot: bool = False) -> int:
    """P, the raw network outputs per discrete variable of K categories (module docstring)."""
    if get_family(family).prior_parameters == ("logits",):
        return num_categories - 1 if gs_pivot else num_categories
    return 2 * (num_categories - 1)


def distribution(
    family: str,
    temperature,
    *,
    logits=None,
    loc=None,
    scale=None,
    flow: tuple[Any, Any, Any] | None = None,
    truncation: Truncation | None = None,
):
    """The relaxed distribution of ``family`` from its parameters (module docstring).

    ``flow`` is ``(u, w, b)``, whose batch shape broadcasts against ``loc``'s (IGR-Planar
    only; the VAE and SOP pass their [V] flow as it is, not tiled over the examples);
    ``truncation`` defaults to :class:`Truncation()` (truncated IGR-SB only).
    """
    record = get_family(family)
    if record.prior_parameters == ("logits",):
        return GumbelSoftmax(logits=logits, temperature=temperature)
    if record.planar:
        if flow is None:
            raise ValueError(f"{family} needs its planar flow parameters")
        u, w, b = flow
        return IGRPlanar(loc=loc, scale=scale, temperature=temperature, flow_u=u, flow_w=w, flow_b=b)
    if record.truncated:
        truncation = truncation or Truncation()
        return TruncatedIGRSB(
            loc=loc,
            scale=scale,
            temperature=temperature,
            threshold=truncation.threshold,
            quantile=truncation.quantile,
        )
    if record.prior_family == "igr_sb":
        return IGRSB(loc=loc, scale=scale, temperature=temperature)
    return IGRI(loc=loc, scale=scale, temperature=temperature)


def posterior(
    family: str,
    outputs: tf.Tensor,
    temperature,
    *,
    flow: PlanarFlowParameters | None = None,
    truncation: Truncation | None = None,
    gs_pivot: bool = False,
):
    """q with batch shape [..., V] from raw outputs [..., V, P] (module docstring)."""
    if get_family(family).prior_parameters == ("logits",):
        logits = outputs
        if gs_pivot:
            logits = tf.concat([outputs, tf.zeros_like(outputs[..., :1])], axis=-1)
        return distribution(family, temperature, logits=logits)
    loc, pre_scale = tf.split(outputs, 2, axis=-1)
    flow_tensors = None
    if get_family(family).planar:
        if flow is None:
            raise ValueError(f"{family} needs its PlanarFlowParameters")
        flow_tensors = (flow.u, flow.w, flow.b)
    return distribution(
        family,
        temperature,
        loc=loc,
        scale=tf.math.softplus(pre_scale),
        flow=flow_tensors,
        truncation=truncation,
    )


def prior(
    family: str,
    record: Mapping[str, Any],
    num_variables: int | None,
    temperature,
    *,
    truncation: Truncation | None = None,
):
    """p with batch shape [V] (or [] for ``num_variables=None``) from a priors-stage record.

    The record holds the parameters of ``family``'s prior family; the prior has no flow
    (IGR-Planar's prior is IGR-I) and keeps the truncation of a truncated family.
    """
    family_record = get_family(family)
    prior_name = family if family_record.truncated else family_record.prior_family

    def parameter(key):
        value = tf.constant(np.asarray(record[key], np.float32))
        if num_variables is None:
            return value
        return tf.broadcast_to(value, [int(num_variables), value.shape[-1]])

    if family_record.prior_parameters == ("logits",):
        return distribution(prior_name, temperature, logits=parameter("logits"))
    return distribution(
        prior_name,
        temperature,
        loc=parameter("loc"),
        scale=parameter("scale"),
        truncation=truncation,
    )


def igr_sb_initial_loc(num_categories: int) -> np.ndarray:
    """Sticks where every piece, the remainder included, is ``1/K`` at zero noise.

    Stick k (1-based, k < K) at ``logit(1/(K - k + 1))``: the start of every IGR-SB fit (the
    priors stage, and truncated IGR-SB in the approximations stage with K = K_max).
    """
    k = np.arange(1, num_categories, dtype=np.float64)
    p = 1.0 / (num_categories - k + 1.0)
    return np.log(p / (1.0 - p)).astype(np.float32)
