"""Uniform priors in closed form: the family law whose argmax is uniform over K categories.

- GS: zero logits; the argmax law is ``softmax(0) = 1/K`` exactly.
- IGR-I: iid ``N(mu0, sigma0^2)`` coordinates. By symmetry the first K - 1 categories are
  equally likely and ``P(K) = Phi(-mu0 / sigma0)^(K-1)``, so the law is uniform iff
  ``mu0 = -sigma0 Phi^-1(K^(-1/(K-1)))`` (spec 2). ``IGRI(zeros, ones)`` is *not* uniform:
  its pivot category wins with probability ``2^-(K-1)``.

IGR-SB's uniform prior has no closed form; it is fitted (``igr learn-prior --family igr_sb``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from igr.distributions.gumbel_softmax import GumbelSoftmax
from igr.distributions.igr_gaussian import IGRI


def igr_i_uniform_loc(num_categories: int, scale: float) -> float:
    """mu0 with ``Phi(-mu0/sigma0)^(K-1) = 1/K``: ``mu0 = -sigma0 Phi^-1(K^(-1/(K-1)))``.

    ``Phi^-1`` is ``scipy.special.ndtri`` (what ``scipy.stats.norm.ppf`` evaluates), which
    TensorFlow has already imported; ``scipy.stats`` would cost 0.3-0.6 s per job.
    """
    from scipy.special import ndtri

    if num_categories < 2:
        raise ValueError(f"num_categories must be >= 2, got {num_categories}")
    return float(-scale * ndtri(num_categories ** (-1.0 / (num_categories - 1))))


def uniform_prior(
    family: str,
    num_categories: int,
    temperature,
    batch_shape=(),
    scale: float = 1.0,
    dtype=tf.float32,
):
    """The uniform prior of ``family`` (``"gs"`` or ``"igr_i"``) for K categories, with
    batch shape ``batch_shape`` (e.g. ``[V]``); ``scale`` is IGR-I's sigma0."""
    shape = [*batch_shape]
    if family == "gs":
        return GumbelSoftmax(tf.zeros([*shape, num_categories], dtype), temperature)
    if family == "igr_i":
        loc = np.full([*shape, num_categories - 1], igr_i_uniform_loc(num_categories, scale))
        return IGRI(
            tf.constant(loc, dtype), tf.fill([*shape, num_categories - 1], tf.constant(scale, dtype)),
            temperature,
        )
    raise ValueError(
        f"no closed-form uniform prior for {family!r} (gs and igr_i have one; IGR-SB's is "
        "fitted by igr learn-prior)"
    )
