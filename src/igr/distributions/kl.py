"""KL divergences used for training: closed form where the math gives one, else Monte Carlo.

Closed forms (registered with `tfp.distributions.kl_divergence`): when posterior and prior are
the same family pushed through the SAME invertible map (same temperature, same delta), the KL
between the simplex laws equals the KL between the Gaussians underneath:

    KL(q || p) = sum_{k < K} [log(s_p / s_q) + (s_q^2 + (m_q - m_p)^2) / (2 s_p^2) - 1/2]

per discrete variable (IGR-I with IGR-I, IGR-SB with IGR-SB, truncated with truncated). The
result has the distributions' batch shape, one value per variable: a VAE loss sums it over
the V variables (the reference code averaged it, an effective weight of 1/V).

Monte Carlo otherwise, `E_q[log q - log p]` over `num_samples` reparameterised draws, in the
space where both densities are safe: log psi for Gumbel-Softmax pairs, lambda (the input of
softmax++) for IGR pairs sharing softmax++ (e.g. IGR-Planar against its IGR-I prior), and the
simplex itself for anything else.

:func:`categorical_kl` is the exact KL between the categorical (argmax) laws
``Cat(softmax(logits))`` of two logit tensors, the KL of the straight-through baselines.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow_probability.python.distributions import kullback_leibler

from igr.distributions._checks import check_same_static
from igr.distributions.gumbel_softmax import GumbelSoftmax
from igr.distributions.igr_gaussian import IGRI, _SoftmaxPlusPlusFamily
from igr.distributions.igr_stick_breaking import IGRSB, TruncatedIGRSB


def _check_same_map(q, p, names):
    for name in names:
        check_same_static(
            name, getattr(q, name), getattr(p, name), "The closed-form KL needs one shared map"
        )


@kullback_leibler.RegisterKL(IGRI, IGRI)
def _kl_igr_i(q, p, name=None):
    with tf.name_scope(name or "kl_igr_i"):
        _check_same_map(q, p, ("temperature", "delta"))
        return kullback_leibler.kl_divergence(q.distribution, p.distribution)


@kullback_leibler.RegisterKL(IGRSB, IGRSB)
def _kl_igr_sb(q, p, name=None):
    with tf.name_scope(name or "kl_igr_sb"):
        _check_same_map(q, p, ("temperature",))
        return kullback_leibler.kl_divergence(q.distribution, p.distribution)


@kullback_leibler.RegisterKL(TruncatedIGRSB, TruncatedIGRSB)
def _kl_truncated_igr_sb(q, p, name=None):
    with tf.name_scope(name or "kl_truncated_igr_sb"):
        return q.truncated_kl(p, q.max_categories)


def _shares_softmax_plus_plus(q, p) -> bool:
    if not (isinstance(q, _SoftmaxPlusPlusFamily) and isinstance(p, _SoftmaxPlusPlusFamily)):
        return False
    _check_same_map(q, p, ("temperature", "delta"))
    return True


def _draw_and_log_ratio(q, p, sample_shape, seed):
    """``(psi, log q - log p)`` of draws of q, in the space where both densities are safe."""
    if isinstance(q, GumbelSoftmax) and isinstance(p, GumbelSoftmax):
        log_psi = q.sample_log(sample_shape, seed=seed)
        return tf.math.exp(log_psi), q.log_prob_log(log_psi) - p.log_prob_log(log_psi)
    if _shares_softmax_plus_plus(q, p):
        lam, log_q = q.distribution.experimental_sample_and_log_prob(sample_shape, seed=seed)
        return q.bijector.forward(lam), log_q - p.distribution.log_prob(lam)
    psi, log_q = q.experimental_sample_and_log_prob(sample_shape, seed=seed)
    return psi, log_q - p.log_prob(psi)


def monte_carlo_kl(q, p, seed=None, num_samples: int = 1):
    """Monte-Carlo `KL(q || p)` [batch] from `num_samples` reparameterised draws of q."""
    return tf.reduce_mean(_draw_and_log_ratio(q, p, [num_samples], seed)[1], axis=0)


def sample_and_kl(q, p, seed=None):
    """One reparameterised draw `psi` of q and the training KL(q || p) [batch] it goes with.

    Returns `(psi, kl, truncation)`. Truncated IGR-SB: the closed-form KL over the sticks the
    draw's truncation keeps, and `truncation` is its `TruncatedSample`. Pairs with a closed
    form (IGR-I, IGR-SB): `q.sample` and the exact KL. Otherwise the one-draw Monte-Carlo
    `log q - log p` of that same draw, in log psi for GS and in lambda for IGR-Planar against
    its IGR-I prior (`truncation` is None).
    """
    if isinstance(q, TruncatedIGRSB) and isinstance(p, TruncatedIGRSB):
        draws = q.sample_with_truncation(seed=seed)
        return draws.psi, q.truncated_kl(p, draws.num_categories), draws
    try:
        kl = kullback_leibler.kl_divergence(q, p)
    except NotImplementedError:
        psi, log_ratio = _draw_and_log_ratio(q, p, (), seed)
        return psi, log_ratio, None
    return q.sample(seed=seed), kl, None


def categorical_kl(logits_q, logits_p):
    """Exact ``KL(Cat(softmax(logits_q)) || Cat(softmax(logits_p)))`` [...] over the last axis:

        sum_k q_k (log q_k - log p_k),  q = softmax(logits_q), p = softmax(logits_p),

    in log-softmax form (a ``q_k`` that underflows to 0 contributes 0, never NaN); >= 0, and
    0 exactly when the two softmaxes agree. The logits broadcast against each other.
    """
    log_q = tf.math.log_softmax(logits_q, axis=-1)
    log_p = tf.math.log_softmax(logits_p, axis=-1)
    return tf.reduce_sum(tf.math.exp(log_q) * (log_q - log_p), axis=-1)


def training_kl(q, p, seed=None, num_samples: int = 1):
    """`KL(q || p)` [batch], per discrete variable: closed form if registered, else Monte Carlo."""
    try:
        return kullback_leibler.kl_divergence(q, p)
    except NotImplementedError:
        return monte_carlo_kl(q, p, seed=seed, num_samples=num_samples)


def has_closed_form_kl(q, p) -> bool:
    """Whether `training_kl(q, p)` is exact (a registered closed form) rather than sampled."""
    try:
        kullback_leibler.kl_divergence(q, p)
    except NotImplementedError:
        return False
    return True
