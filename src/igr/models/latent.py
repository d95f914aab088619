"""The V x K discrete latent of the VAE with any relaxed family, and its prior.

The encoder's output for one example is split into V rows of per-variable parameters:

- ``gs``: logits [V, K] -> ``GumbelSoftmax``;
- ``igr_i``, ``igr_sb``: loc and ``softplus`` scale [V, K-1] each -> ``IGRI`` / ``IGRSB``;
- ``igr_planar``: loc, scale as IGR-I, plus planar flow parameters ``u, w`` [V, L, K-1] and
  ``b`` [V, L] that are global per discrete variable (not amortised), trained with the nets;
- ``igr_sb_trunc``: ``TruncatedIGRSB`` with cap K_max = K (loc, scale [V, K-1]); each batch
  picks its number of categories m (spec 1.6) and its psi has zeros after m.

The prior of variable v is the family's learned uniform prior (spec 2), read from the priors
stage's JSON file (``results/priors/{family}_K{K}.json``; IGR-Planar's prior is IGR-I's and
truncated IGR-SB reads ``igr_sb_K{K_max}.json``), broadcast over the V variables, with the
posterior's temperature (the closed-form KLs need one map).

:meth:`Latent.sample_and_kl` returns one relaxed sample psi [B, V, K] and the KL per example
and variable [B, V]:

- GS: Monte Carlo on the same draw in log space, ``log q(y) - log p(y)``, ``y = log psi``
  (ExpConcrete densities, numerically safe);
- IGR-I, IGR-SB: closed-form Gaussian KL (spec 1.3, 1.5);
- IGR-Planar: Monte Carlo on the same draw in lambda space (the input of softmax++),
  ``log q(lambda) - log p(lambda)`` (spec 1.4);
- truncated IGR-SB: closed-form Gaussian KL over the m - 1 sticks in use.

The VAE sums this KL over the V variables.
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf

from igr.distributions import (
    IGRI,
    IGRSB,
    GumbelSoftmax,
    IGRPlanar,
    TruncatedIGRSB,
    training_kl,
)
from igr.families import families_of_stage, get_family

LATENT_FAMILIES: tuple[str, ...] = families_of_stage("vae")


class Latent(tf.Module):
    """V discrete variables of K categories of one family (module docstring).

    Args:
      family: one of :data:`LATENT_FAMILIES`.
      num_variables, num_categories: V and K (K_max for the truncated family).
      temperature: tau of posterior and prior.
      prior: the priors-stage record (dict read from JSON).
      planar_layers: L (IGR-Planar only).
      threshold, quantile: truncation settings (truncated IGR-SB only).
      seed: initialisation seed of the planar flow parameters.
    """

    def __init__(
        self,
        family: str,
        num_variables: int,
        num_categories: int,
        temperature: float,
        prior: dict[str, Any],
        *,
        planar_layers: int = 2,
        threshold: float = 0.9,
        quantile: float = 0.75,
        seed: int = 0,
    ):
        super().__init__(name="latent")
        if family not in LATENT_FAMILIES:
            raise ValueError(f"unknown family {family!r}; expected one of {LATENT_FAMILIES}")
        if int(prior["num_categories"]) != num_categories:
            raise ValueError(
                f"prior file has K = {prior['num_categories']}, the model needs K = {num_categories}"
            )
        self.family = family
        self.num_variables, self.num_categories = int(num_variables), int(num_categories)
        self.temperature = float(temperature)
        self.threshold, self.quantile = float(threshold), float(quantile)
        v, k = self.num_variables, self.num_categories
        if family == "gs":
            self.params_per_variable = k
            logits = tf.constant(prior["logits"], tf.float32)
            self.prior_params = {"logits": tf.broadcast_to(logits, [v, k])}
        else:
            self.params_per_variable = 2 * (k - 1)
            self.prior_params = {
                "loc": tf.broadcast_to(tf.constant(prior["loc"], tf.float32), [v, k - 1]),
                "scale": tf.broadcast_to(tf.constant(prior["scale"], tf.float32), [v, k - 1]),
            }
        if family == "igr_planar":
            shape = [v, planar_layers, k - 1]
            self.flow_u = tf.Variable(
                0.1 * tf.random.stateless_normal(shape, seed=[seed, 3001]), name="flow_u"
            )
            self.flow_w = tf.Variable(
                0.1 * tf.random.stateless_normal(shape, seed=[seed, 3002]), name="flow_w"
            )
            self.flow_b = tf.Variable(tf.zeros([v, planar_layers]), name="flow_b")

    @property
    def num_params(self) -> int:
        """Encoder outputs needed: V * (params per variable)."""
        return self.num_variables * self.params_per_variable

    @property
    def latent_size(self) -> int:
        """Decoder inputs: V * K (psi flattened)."""
        return self.num_variables * self.num_categories

    # ------------------------------------------------------------------ distributions

    def posterior(self, encoder_output: tf.Tensor):
        """q(psi | x) with batch shape [B, V] from encoder outputs [B, V * P]."""
        params = tf.reshape(encoder_output, [-1, self.num_variables, self.params_per_variable])
        tau = self.temperature
        if self.family == "gs":
            return GumbelSoftmax(logits=params, temperature=tau)
        half = self.num_categories - 1
        loc, scale = params[..., :half], tf.math.softplus(params[..., half:])
        if self.family == "igr_i":
            return IGRI(loc=loc, scale=scale, temperature=tau)
        if self.family == "igr_sb":
            return IGRSB(loc=loc, scale=scale, temperature=tau)
        if self.family == "igr_sb_trunc":
            return TruncatedIGRSB(
                loc=loc,
                scale=scale,
                temperature=tau,
                threshold=self.threshold,
                quantile=self.quantile,
            )
        batch = tf.shape(loc)[0]

        def tile(flow):
            return tf.broadcast_to(flow, tf.concat([[batch], tf.shape(flow)], 0))

        return IGRPlanar(
            loc=loc,
            scale=scale,
            temperature=tau,
            flow_u=tile(self.flow_u),
            flow_w=tile(self.flow_w),
            flow_b=tile(self.flow_b),
        )

    def prior(self):
        """p(psi) with batch shape [V]."""
        tau = self.temperature
        if self.family == "gs":
            return GumbelSoftmax(logits=self.prior_params["logits"], temperature=tau)
        loc, scale = self.prior_params["loc"], self.prior_params["scale"]
        if get_family(self.family).prior_family == "igr_i":
            return IGRI(loc=loc, scale=scale, temperature=tau)
        if self.family == "igr_sb":
            return IGRSB(loc=loc, scale=scale, temperature=tau)
        return TruncatedIGRSB(
            loc=loc, scale=scale, temperature=tau, threshold=self.threshold, quantile=self.quantile
        )

    # ------------------------------------------------------------------ training

    def sample_and_kl(self, q, seed) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
        """(psi [B, V, K], KL [B, V], extra metrics) from one reparameterised draw."""
        p = self.prior()
        extras: dict[str, tf.Tensor] = {}
        if self.family == "gs":
            log_psi = q.sample_log(seed=seed)
            psi = tf.math.exp(log_psi)
            kl = q.log_prob_log(log_psi) - p.log_prob_log(log_psi)
        elif self.family in ("igr_i", "igr_sb"):
            psi = q.sample(seed=seed)
            kl = training_kl(q, p)
        elif self.family == "igr_planar":
            lam, log_q = q.distribution.experimental_sample_and_log_prob(seed=seed)
            psi = q.bijector.forward(lam)
            kl = log_q - p.distribution.log_prob(lam)
        else:
            draws = q.sample_with_truncation(seed=seed)
            psi = draws.psi
            kl = q.truncated_kl(p, draws.num_categories)
            extras = {
                "categories_used": tf.cast(draws.num_categories, tf.float32),
                "cap_hit": tf.cast(draws.cap_hit, tf.float32),
            }
        return psi, kl, extras

    # ------------------------------------------------------------------ evaluation

    def argmax_probs(self, q, num_samples: int, seed) -> tf.Tensor:
        """q(b | x) per variable [B, V, K]: exact for GS and IGR-I, else from
        ``num_samples`` draws (Monte Carlo)."""
        if get_family(self.family).exact_argmax:
            return q.argmax_probs()
        counts = tf.one_hot(q.sample_argmax(num_samples, seed=seed), self.num_categories)
        return tf.reduce_mean(counts, axis=0)

    def log_uniform_prior(self) -> float:
        """log p(b) of a vertex under the uniform law over K^V configurations."""
        return -self.num_variables * math.log(self.num_categories)
