"""Stage "priors" (spec section 2): the uniform prior of each family, for each K.

The prior over one discrete variable is the family's distribution with fixed parameters
chosen so that its argmax law is uniform over the K categories. One JSON file per
(family, K) holds the parameters and the divergence reached; the VAE and SOP stages read
exactly those files.

- GS: uniform logits (zeros); the argmax law ``softmax(logits)`` is exactly uniform.
- IGR-I: iid ``N(mu0, sigma0^2)`` coordinates. By symmetry the first K-1 categories are
  equally likely and ``P(K) = Phi(-mu0/sigma0)^(K-1)``, so the law is uniform iff
  ``Phi(-mu0/sigma0) = K^(-1/(K-1))``, i.e. ``mu0 = -sigma0 * Phi^-1(K^(-1/(K-1)))``.
  sigma0 comes from the config (default 1). The divergence reported is computed from the
  family's exact argmax probabilities, which checks the closed form.
- IGR-Planar: its prior is IGR-I's (spec 1.4), so its file holds the same parameters as
  IGR-I's (with ``"prior_family": "igr_i"``); the VAE stage reads one file per family it
  trains (``igr.families``: ``prior_file`` and ``prior_family``).
- IGR-SB: per-stick loc and log-scale (K-1 each) fitted with Adam (tf_keras, as every
  stage), minimising
  ``KL(u || p_hat) = -log K - (1/K) sum_k log p_hat_k`` where
  ``p_hat = mean_s psi_s`` is the mean of relaxed samples at a small temperature: a
  differentiable Monte-Carlo estimate of the argmax law (the argmax of psi is the argmax of
  the stick pieces at any temperature). Every step uses its own stateless seed, split from
  the config seed, so a fit is deterministic. The divergence reported is that of the
  Monte-Carlo argmax law (``argmax_probs`` with many samples, a fresh seed).

The argmax law of every family here does not depend on the temperature, so the files store
no temperature for use downstream: ``"temperature"`` is the one used for fitting (IGR-SB)
and null otherwise. Later stages combine these loc/scale/logits with their own temperature.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from igr import provenance
from igr.experiments._common import (
    at_least,
    configure_threads,
    divergences_from_uniform,
    family_seed,
    positive_float,
    positive_int,
)
from igr.families import families_of_stage, get_family
from igr.io import write_json_atomic

FAMILIES: tuple[str, ...] = families_of_stage("priors")

#: The options of ``igr learn-prior`` that each prior family uses (dest names).
PRIOR_FAMILY_OPTIONS: dict[str, tuple[str, ...]] = {
    "gs": (),
    "igr_i": ("scale",),
    "igr_sb": (
        "fit_temperature",
        "num_steps",
        "samples_per_step",
        "learning_rate",
        "eval_samples",
        "seed",
    ),
}
#: The options of ``igr learn-prior`` that each family uses: its prior family's.
FAMILY_OPTIONS: dict[str, tuple[str, ...]] = {
    name: PRIOR_FAMILY_OPTIONS[get_family(name).prior_family] for name in FAMILIES
}


def gs_prior(num_categories: int) -> dict[str, Any]:
    """GS prior: zero logits; its argmax law ``softmax(0) = 1/K`` is exact.

    The softmax is taken in float32 NumPy, so the job needs no TensorFlow (its import is
    nearly all of the job's 5 s); tests check it equals ``GumbelSoftmax.argmax_probs``.
    """
    logits = np.zeros(num_categories, dtype=np.float32)
    weights = np.exp(logits - logits.max())
    probs = weights / weights.sum(dtype=np.float32)
    return {
        "logits": logits.tolist(),
        "argmax_probs": np.asarray(probs, dtype=np.float64).tolist(),
        "argmax_probs_method": "exact",
        "settings": {},
    }


def igr_i_prior(num_categories: int, scale: float) -> dict[str, Any]:
    """IGR-I prior in closed form (module docstring), checked by the exact argmax law."""
    from igr.distributions import igr_i_uniform_loc
    from igr.models import relaxed

    loc = np.full(num_categories - 1, igr_i_uniform_loc(num_categories, scale), np.float32)
    scales = np.full(num_categories - 1, scale, np.float32)
    probs = relaxed.distribution("igr_i", 1.0, loc=loc, scale=scales).argmax_probs()
    return {
        "loc": loc.tolist(),
        "scale": scales.tolist(),
        "argmax_probs": np.asarray(probs, dtype=np.float64).tolist(),
        "argmax_probs_method": "exact",
        "settings": {"scale": scale},
    }


def igr_sb_prior(
    num_categories: int,
    fit_temperature: float,
    num_steps: int,
    samples_per_step: int,
    learning_rate: float,
    eval_samples: int,
    seed: int,
) -> dict[str, Any]:
    """Fit the IGR-SB prior with Adam (module docstring) and evaluate its argmax law.

    Adam is :func:`igr.training.optimizer.fit_with_adam` on theta = (loc, log scale), from
    :func:`igr.models.relaxed.igr_sb_initial_loc` and unit scales. Step t samples with
    ``seeds[t]``, the t-th of ``num_steps + 1`` stateless seeds split from
    ``(seed, family offset)``; the last one drives the evaluation.
    """
    import tensorflow as tf
    from tensorflow_probability.python.internal import samplers

    from igr.models import relaxed
    from igr.training.optimizer import fit_with_adam

    dims = num_categories - 1
    loc = tf.Variable(relaxed.igr_sb_initial_loc(num_categories), name="loc")
    log_scale = tf.Variable(tf.zeros([dims]), name="log_scale")
    seeds = tf.stack(samplers.split_seed(family_seed(seed, "igr_sb"), n=num_steps + 1))
    log_k = math.log(num_categories)

    def family():
        return relaxed.distribution(
            "igr_sb", fit_temperature, loc=loc, scale=tf.exp(log_scale)
        )

    def loss_fn(step_seed: tf.Tensor):
        relaxed_argmax_law = tf.reduce_mean(family().sample(samples_per_step, seed=step_seed), 0)
        return -log_k - tf.reduce_mean(tf.math.log(relaxed_argmax_law)), tf.constant(0)

    losses, _ = fit_with_adam([loc, log_scale], loss_fn, seeds, num_steps, learning_rate)
    scale = tf.exp(log_scale)
    probs = family().argmax_probs(num_samples=eval_samples, seed=seeds[num_steps])
    return {
        "temperature": fit_temperature,
        "loc": loc.numpy().astype(np.float64).tolist(),
        "scale": scale.numpy().astype(np.float64).tolist(),
        "argmax_probs": np.asarray(probs, dtype=np.float64).tolist(),
        "argmax_probs_method": "monte_carlo",
        "argmax_probs_num_samples": eval_samples,
        "fit": {
            "loss": "KL(uniform || mean of relaxed samples)",
            "initial_loss": losses[0] if losses else None,
            "final_loss": losses[-1] if losses else None,
        },
        "settings": {
            "fit_temperature": fit_temperature,
            "num_steps": num_steps,
            "samples_per_step": samples_per_step,
            "learning_rate": learning_rate,
            "eval_samples": eval_samples,
            "seed": seed,
        },
    }


def learn_prior(family: str, num_categories: int, **settings: Any) -> dict[str, Any]:
    """The prior record of ``family`` for K = ``num_categories`` (written as JSON)."""
    if family == "gs":
        fitted = gs_prior(num_categories)
    elif family in FAMILIES and get_family(family).prior_family == "igr_i":
        fitted = igr_i_prior(num_categories, settings["scale"])
    elif family == "igr_sb":
        fitted = igr_sb_prior(num_categories, **settings)
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    record: dict[str, Any] = {
        "family": family,
        "prior_family": get_family(family).prior_family,
        "num_categories": num_categories,
        "temperature": fitted.pop("temperature", None),
    }
    record.update(fitted)
    record["divergence"] = divergences_from_uniform(record["argmax_probs"])
    return record


def _run_learn_prior(args: argparse.Namespace) -> int:
    used = FAMILY_OPTIONS[args.family]
    given = {name: getattr(args, name) for name in _ALL_OPTIONS if getattr(args, name) is not None}
    unused = sorted(set(given) - set(used))
    missing = sorted(set(used) - set(given))
    if unused or missing:
        flags = lambda names: ", ".join("--" + n.replace("_", "-") for n in names)  # noqa: E731
        problems = [f"not used by {args.family}: {flags(unused)}"] if unused else []
        problems += [f"required by {args.family}: {flags(missing)}"] if missing else []
        raise SystemExit(f"igr learn-prior: {'; '.join(problems)}")
    if args.family != "gs":  # the GS prior is NumPy only (gs_prior)
        configure_threads(args.threads)
    record = learn_prior(args.family, args.num_categories, **given)
    record["provenance"] = provenance.collect()
    write_json_atomic(args.output, record)
    print(
        f"{args.family} K={args.num_categories}: KL(u||p) = "
        f"{record['divergence']['kl_uniform_to_learned']:.3g}, "
        f"TV = {record['divergence']['total_variation']:.3g} -> {args.output}"
    )
    return 0


_ALL_OPTIONS = ("scale", *PRIOR_FAMILY_OPTIONS["igr_sb"])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr learn-prior``."""
    learn = subparsers.add_parser(
        "learn-prior",
        help="fit the uniform prior of one family for one K (spec section 2)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument("--family", required=True, choices=FAMILIES)
    learn.add_argument("--num-categories", required=True, type=at_least(2), metavar="K")
    learn.add_argument(
        "--scale", type=positive_float, help="IGR-I/Planar: sigma0 of every coordinate"
    )
    learn.add_argument(
        "--fit-temperature", type=positive_float, help="IGR-SB: temperature of the relaxed samples"
    )
    learn.add_argument("--num-steps", type=int, help="IGR-SB: Adam steps")
    learn.add_argument(
        "--samples-per-step", type=positive_int, help="IGR-SB: relaxed samples per step"
    )
    learn.add_argument("--learning-rate", type=positive_float, help="IGR-SB: Adam learning rate")
    learn.add_argument(
        "--eval-samples", type=positive_int, help="IGR-SB: samples of the Monte-Carlo argmax law"
    )
    learn.add_argument("--seed", type=int, help="IGR-SB: seed of the stateless per-step seeds")
    learn.add_argument("--threads", type=int, default=None, help="TensorFlow threads")
    learn.add_argument("--output", required=True, type=Path, help="JSON file to write")
    learn.set_defaults(func=_run_learn_prior)
