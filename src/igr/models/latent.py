"""The V x K discrete latent of the VAE with any relaxed family, and its prior.

The encoder's output for one example is split into V rows of per-variable parameters:

- GS: logits [V, K] -> ``GumbelSoftmax``;
- IGR-I, IGR-SB: loc and ``softplus`` scale [V, K-1] each -> ``IGRI`` / ``IGRSB``;
- IGR-Planar: loc, scale as IGR-I, plus planar flow parameters ``u, w`` [V, L, K-1] and
  ``b`` [V, L] that are global per discrete variable (not amortised), trained with the nets
  (:class:`igr.models.relaxed.PlanarFlowParameters`);
- truncated IGR-SB: ``TruncatedIGRSB`` with cap K_max = K (loc, scale [V, K-1]); each batch
  picks its number of categories m (spec 1.6) and its psi has zeros after m;
- ST-GS and ReinMax (baselines, issue 17): logits [V, K] -> ``GumbelSoftmax`` as GS, read
  through a one-hot forward value (below).

The prior of variable v is the family's learned uniform prior (spec 2), read from the priors
stage's JSON file (``results/priors/{family}_K{K}.json``; IGR-Planar's prior is IGR-I's,
truncated IGR-SB reads ``igr_sb_K{K_max}.json`` and ST-GS and ReinMax read GS's
``gs_K{K}.json``), broadcast over the V variables, with the posterior's temperature (the
closed-form KLs need one map).

:meth:`Latent.sample_and_kl` returns one relaxed sample psi [B, V, K] and the KL per example
and variable [B, V]:

- GS: Monte Carlo on the same draw in log space, ``log q(y) - log p(y)``, ``y = log psi``
  (ExpConcrete densities, numerically safe);
- IGR-I, IGR-SB: closed-form Gaussian KL (spec 1.3, 1.5);
- IGR-Planar: Monte Carlo on the same draw in lambda space (the input of softmax++),
  ``log q(lambda) - log p(lambda)`` (spec 1.4);
- truncated IGR-SB: closed-form Gaussian KL over the m - 1 sticks in use;
- ST-GS (``forward = "st_gs"``): ``psi ~ GS(logits, tau)``, value ``one_hot(argmax psi)``
  exactly, gradient ``d psi / d logits`` (:func:`igr.distributions.straight_through`);
- ReinMax (``forward = "reinmax"``): ``D ~ Cat(softmax(logits))`` exactly (Gumbel-max,
  :func:`igr.distributions.estimators.categorical_sample`), value D, gradient
  ``(2 J(pi1) - J(pi0) / 2)^T g`` for the upstream gradient g, ``J(p) = diag(p) - p p^T``,
  ``pi0 = softmax(logits)``, ``pi1 = (D + softmax(logits / tau)) / 2``
  (:func:`igr.distributions.estimators.reinmax_one_hot`, Liu et al. 2023, Algorithm 2);
- both baselines (``kl = "categorical"``): the exact categorical KL of their papers,
  ``KL(Cat(q) || Cat(p)) = sum_k q_k (log q_k - log p_k)``, ``q = softmax(logits)``,
  ``p = softmax(prior logits)``, uniform (GS's prior file holds equal logits, checked), so
  ``log p_k = -log K`` (:func:`igr.distributions.categorical_kl`), not Monte Carlo.

For the baselines the decoder reads exact one-hot codes b with ``b ~ Cat(softmax(logits))``
(the argmax of a GS draw has that law too), so their "relaxed" ELBO
``log p(x | b) - sum_v KL_v`` is a one-sample estimate of the discrete ELBO of the very model
the discrete bound scores, with ``q(b | x) = softmax(logits)`` exactly (:meth:`argmax_probs`);
the relaxation gap and the vertex distance are 0 by construction.

The relaxed families are built by :mod:`igr.models.relaxed` and their draw and KL come from
:func:`igr.distributions.sample_and_kl`. The VAE sums this KL over the V variables.
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf

from igr.distributions import categorical_kl, sample_and_kl
from igr.families import UNIFORM_PRIOR_TOLERANCE, families_of_stage, get_family, logits_spread
from igr.models import relaxed

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
        self.truncation = relaxed.Truncation(float(threshold), float(quantile))
        self.params_per_variable = relaxed.num_parameters(family, self.num_categories)
        self.flow = None
        if get_family(family).planar:
            self.flow = relaxed.PlanarFlowParameters(
                [self.num_variables], planar_layers, self.num_categories - 1, [seed, 3001]
            )
        self._prior = relaxed.prior(
            family, prior, self.num_variables, self.temperature, truncation=self.truncation
        )
        self.forward = get_family(family).forward
        self.kl = get_family(family).kl
        if self.kl == "categorical":
            spread = logits_spread(prior["logits"])
            if spread > UNIFORM_PRIOR_TOLERANCE:
                raise ValueError(
                    f"{family} takes its categorical KL to a uniform prior, but the prior "
                    f"file's logits differ by {spread:.3g}"
                )

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
        return relaxed.posterior(
            self.family, params, self.temperature, flow=self.flow, truncation=self.truncation
        )

    def prior(self):
        """p(psi) with batch shape [V]."""
        return self._prior

    # ------------------------------------------------------------------ training

    def sample_and_kl(self, q, seed) -> tuple[tf.Tensor, tf.Tensor, dict[str, tf.Tensor]]:
        """(psi [B, V, K], KL [B, V], extra metrics) from one draw (module docstring).

        psi is what the decoder reads: the relaxed sample, or for ST-GS and ReinMax an
        exactly one-hot code whose gradient is the estimator's; KL per example and variable.
        """
        if self.forward == "relaxed":
            psi, kl, truncation = sample_and_kl(q, self.prior(), seed)
        else:
            psi = relaxed.one_hot_sample(self.family, q, self.temperature, seed)
            truncation = None
        if self.kl == "categorical":
            kl = self._categorical_kl(q)
        extras: dict[str, tf.Tensor] = {}
        if truncation is not None:
            extras = {
                "categories_used": tf.cast(truncation.num_categories, tf.float32),
                "cap_hit": tf.cast(truncation.cap_hit, tf.float32),
            }
        return psi, kl, extras

    def _categorical_kl(self, q) -> tf.Tensor:
        """``KL(Cat(softmax(logits_q)) || Cat(softmax(logits_p)))`` [B, V], exact."""
        return categorical_kl(q.logits, self.prior().logits)

    # ------------------------------------------------------------------ evaluation

    def argmax_probs(self, q, num_samples: int, seed) -> tf.Tensor:
        """q(b | x) per variable [B, V, K]: exact for GS, IGR-I, ST-GS and ReinMax
        (``softmax(logits)`` for the last three), else from ``num_samples`` draws (Monte Carlo)."""
        if get_family(self.family).exact_argmax:
            return q.argmax_probs()
        counts = tf.one_hot(q.sample_argmax(num_samples, seed=seed), self.num_categories)
        return tf.reduce_mean(counts, axis=0)

    def log_uniform_prior(self) -> float:
        """log p(b) of a vertex under the uniform law over K^V configurations."""
        return -self.num_variables * math.log(self.num_categories)
