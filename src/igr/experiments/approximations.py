"""Stage "approximations" (spec section 3): fit relaxed families to discrete targets.

For one target pmf ``p`` over the non-negative integers, fit each family's parameters so that
its argmax law matches ``p``, then draw argmax samples of the fit and compare them with ``p``.

Targets (scipy parametrisations, the reference code's):

- ``poisson``: Poisson(rate), ``p_k = e^-rate rate^k / k!``;
- ``negative_binomial``: ``scipy.stats.nbinom(total_count, probs)``, the number of failures
  before ``total_count`` successes of probability ``probs``:
  ``p_k = C(k + r - 1, k) probs^r (1 - probs)^k`` (mean ``r (1 - probs) / probs``);
- ``binomial``: Binomial(total_count, probs);
- ``fixed_pmf``: ``p_k proportional to weights[k]`` on ``0..len(weights)-1``.

Families; category k (0-based) stands for the integer k:

- GS with K categories: parameters = logits [K], temperature ``tau_GS``;
- truncated IGR-SB with a cap of ``K_max`` categories: parameters = stick loc and
  log-scale [K_max - 1], temperature ``tau_SB``, threshold and quantile of spec 1.6. Each
  batch uses ``m`` categories, ``m - 1`` stick pieces plus the remainder at index ``m - 1``.

Common support (how a family with finitely many categories meets an infinite target). A
family that uses ``m`` categories is compared with the *lumped* target
``t^(m)_k = p_k`` for ``k < m - 1`` and ``t^(m)_{m-1} = P(X >= m - 1)``, i.e. the target mass
beyond the family's support is put into its last category (the remainder for IGR-SB). GS uses
``m = K``; truncated IGR-SB uses the ``m`` its truncation picked for the batch, so the lumped
target changes from batch to batch, and all tensors stay at size ``K_max`` (masked).

Fit: Adam (:func:`igr.training.optimizer.fit_with_adam`) on the parameters minimising, per
step with S fresh relaxed samples psi_s,

    loss = KL(t^(m) || p_hat) = sum_{k < m, t_k > 0} t_k (log t_k - log p_hat_k),
    p_hat = (1/S) sum_s psi_s,   log p_hat = logsumexp_s log psi_s - log S,

the divergence between the target and the mean of the relaxed samples, a differentiable
Monte-Carlo estimate of the argmax law at small temperature. Every step uses its own
stateless seed split from ``(seed, fit offset)``, so a fit is deterministic.

Evaluation: ``eval_samples`` argmax samples x of the fitted family (one truncation for the
whole batch for IGR-SB), their histogram ``h`` (zero beyond the family's support), and

- total variation over all integers ``TV = 1/2 sum_k |h_k - p_k|``, with the target's mass
  beyond the histogram counted in full: ``+ 1/2 P(X >= len(h))``;
- against the target lumped at the m categories the fit used (the last one is the
  remainder ``X >= m - 1``): TV, and ``KL(h || t^(m))`` over the support of ``t^(m)``, with
  the samples' mass outside that support and the tail mass ``P(X >= m - 1)`` reported
  separately (KL(p || h) would be infinite for every Monte-Carlo histogram of an infinite
  target, so it is not reported);
- the mean and variance of the samples against the target's.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from igr import provenance
from igr.experiments._common import (
    FAMILY_SEED_OFFSETS,
    at_least,
    configure_threads,
    positive_float,
    positive_int,
)
from igr.io import write_json_atomic

TARGETS: tuple[str, ...] = ("poisson", "negative_binomial", "binomial", "fixed_pmf")

#: Parameters of each target (all required).
TARGET_PARAMETERS: dict[str, tuple[str, ...]] = {
    "poisson": ("rate",),
    "negative_binomial": ("total_count", "probs"),
    "binomial": ("total_count", "probs"),
    "fixed_pmf": ("weights",),
}


def target_distribution(name: str, parameters: Mapping[str, Any]):
    """The frozen scipy distribution of a target (module docstring)."""
    from scipy import stats

    missing = sorted(set(TARGET_PARAMETERS.get(name, ())) - set(parameters))
    if name not in TARGET_PARAMETERS:
        raise ValueError(f"unknown target {name!r}; expected one of {TARGETS}")
    if missing or set(parameters) - set(TARGET_PARAMETERS[name]):
        raise ValueError(
            f"target {name!r} takes parameters {TARGET_PARAMETERS[name]}, got {sorted(parameters)}"
        )
    if name == "poisson":
        return stats.poisson(float(parameters["rate"]))
    if name == "negative_binomial":
        return stats.nbinom(float(parameters["total_count"]), float(parameters["probs"]))
    if name == "binomial":
        return stats.binom(int(parameters["total_count"]), float(parameters["probs"]))
    weights = np.asarray(parameters["weights"], dtype=np.float64)
    if weights.ndim != 1 or np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(f"fixed_pmf weights must be non-negative, not all 0: {weights}")
    return stats.rv_discrete(values=(np.arange(weights.size), weights / weights.sum()))


def target_pmf_and_tail(distribution, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(p_k, P(X >= k))`` for k = 0..size-1, float64."""
    k = np.arange(size)
    return distribution.pmf(k), distribution.sf(k - 1)


def lumped_target(pmf, tail, num_categories):
    """``t^(m)`` of the module docstring at the static size of ``pmf`` [K_max] (TF, masked).

    ``pmf`` and ``tail`` are float tensors [K_max]; ``num_categories`` is m (a scalar tensor
    or int, 1 <= m <= K_max).
    """
    import tensorflow as tf

    index = tf.range(tf.shape(pmf)[-1])
    last = num_categories - 1
    return tf.where(
        index < last,
        pmf,
        tf.where(index == last, tf.gather(tail, last), tf.zeros_like(pmf)),
    )


def kl_target_to_relaxed_mean(target, log_relaxed_mean):
    """``sum_{t_k > 0} t_k (log t_k - log p_hat_k)`` over the last axis (TF), from log p_hat.

    ``log p_hat`` comes from :func:`log_relaxed_mean`, so a category that no relaxed sample
    reaches in float32 still has a finite log mean (at tau = 0.001 ``log mean(psi)`` was
    ``-inf`` there: an infinite loss and NaN parameters).
    """
    import tensorflow as tf

    positive = target > 0
    safe_target = tf.where(positive, target, tf.ones_like(target))
    safe_log_mean = tf.where(positive, log_relaxed_mean, tf.zeros_like(log_relaxed_mean))
    terms = target * (tf.math.log(safe_target) - safe_log_mean)
    return tf.reduce_sum(tf.where(positive, terms, tf.zeros_like(terms)), axis=-1)


def log_relaxed_mean(log_psi):
    """``log (1/S) sum_s psi_s`` [K] from ``log psi`` [S, K] (logsumexp, never -inf where a
    ``log psi`` is finite). Empty categories (``log psi = -inf``, after a truncation's m)
    enter as -1e30, so their log mean is finite and their gradient 0, not NaN."""
    import tensorflow as tf

    finite = tf.math.is_finite(log_psi)
    log_psi = tf.where(finite, log_psi, tf.constant(-1e30, log_psi.dtype))
    count = tf.cast(tf.shape(log_psi)[0], log_psi.dtype)
    return tf.reduce_logsumexp(log_psi, axis=0) - tf.math.log(count)


def histogram_metrics(
    samples: np.ndarray, size: int, distribution, num_categories: int | None = None
) -> dict[str, Any]:
    """Histogram of integer ``samples`` over 0..size-1 and its distances to the target.

    Over all integers: ``total_variation`` (target mass beyond the histogram counted in
    full), the means and variances. Against the target lumped at the m = ``num_categories``
    categories the family used (its last category stands for ``X >= m - 1``, the remainder
    of truncated IGR-SB): ``total_variation_lumped``, ``kl_histogram_to_lumped_target`` over
    the lumped target's support (finite) with ``mass_outside_target_support`` (the samples'
    share where the target is 0) reported next to it, ``last_category_share`` (samples in
    the last category) and ``target_tail_mass`` (the target's ``P(X >= m - 1)``).
    """
    samples = np.asarray(samples, dtype=np.int64)
    counts = np.bincount(samples, minlength=size)[:size]
    h = counts / counts.sum()
    pmf = distribution.pmf(np.arange(size))
    beyond = float(distribution.sf(size - 1))  # P(X >= size)
    tv = 0.5 * (float(np.sum(np.abs(h - pmf))) + beyond)
    m = size if num_categories is None else int(num_categories)
    lumped = np.append(pmf[: m - 1], float(distribution.sf(m - 2)))  # P(X >= m - 1) last
    h_m = np.append(h[: m - 1], h[m - 1 :].sum())
    support = lumped > 0
    seen = (h_m > 0) & support
    kl = float(np.sum(h_m[seen] * (np.log(h_m[seen]) - np.log(lumped[seen]))))
    return {
        "histogram": h.tolist(),
        "total_variation": tv,
        "total_variation_lumped": 0.5 * float(np.sum(np.abs(h_m - lumped))),
        "kl_histogram_to_lumped_target": kl,
        "mass_outside_target_support": float(h_m[~support].sum()),
        "last_category_share": float(h_m[-1]),
        "target_tail_mass": float(lumped[-1]),
        "mean": float(np.mean(samples)),
        "variance": float(np.var(samples)),
        "target_mean": float(distribution.mean()),
        "target_variance": float(distribution.var()),
        "max_sample": int(samples.max()),
        "share_at_or_above_50": float(np.mean(samples >= 50)),
        "target_share_at_or_above_50": float(distribution.sf(49)),
    }


def _fit_seeds(seed: int, family: str, num_categories: int, num_steps: int):
    import tensorflow as tf
    from tensorflow_probability.python.internal import samplers

    offset = 1000 * FAMILY_SEED_OFFSETS[family] + num_categories
    return tf.stack(samplers.split_seed((int(seed), offset), n=num_steps + 1))


def fit_gs(
    distribution,
    num_categories: int,
    temperature: float,
    num_steps: int,
    samples_per_step: int,
    learning_rate: float,
    eval_samples: int,
    seed: int,
) -> dict[str, Any]:
    """Fit GS logits [K] (start: zeros) and evaluate ``eval_samples`` argmax samples."""
    import tensorflow as tf

    from igr.models import relaxed
    from igr.training.optimizer import fit_with_adam

    pmf, tail = target_pmf_and_tail(distribution, num_categories)
    target = lumped_target(
        tf.constant(pmf, tf.float32), tf.constant(tail, tf.float32), num_categories
    )
    logits = tf.Variable(tf.zeros([num_categories]), name="logits")
    seeds = _fit_seeds(seed, "gs", num_categories, num_steps)

    def family():
        return relaxed.distribution("gs", temperature, logits=logits)

    def loss_fn(step_seed):
        log_psi = family().sample_log(samples_per_step, seed=step_seed)
        return kl_target_to_relaxed_mean(target, log_relaxed_mean(log_psi)), num_categories

    losses, _ = fit_with_adam([logits], loss_fn, seeds, num_steps, learning_rate)
    fitted = family()
    samples = fitted.sample_argmax(eval_samples, seed=seeds[num_steps]).numpy()
    record = {
        "family": "gs",
        "num_categories": num_categories,
        "temperature": temperature,
        "parameters": {"logits": logits.numpy().astype(np.float64).tolist()},
        "categories_used": num_categories,
        "cap_hit": None,
        "initial_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
    }
    record.update(histogram_metrics(samples, num_categories, distribution, num_categories))
    return record


def fit_truncated_igr_sb(
    distribution,
    max_categories: int,
    temperature: float,
    threshold: float,
    quantile: float,
    num_steps: int,
    samples_per_step: int,
    learning_rate: float,
    eval_samples: int,
    seed: int,
) -> dict[str, Any]:
    """Fit truncated IGR-SB sticks (loc, log scale) [K_max - 1] and evaluate the fit.

    Each step compares the batch's relaxed mean with the target lumped at the batch's own
    number of categories m (module docstring); the m of every step is recorded.
    """
    import tensorflow as tf

    from igr.models import relaxed
    from igr.training.optimizer import fit_with_adam

    pmf, tail = target_pmf_and_tail(distribution, max_categories)
    pmf, tail = tf.constant(pmf, tf.float32), tf.constant(tail, tf.float32)
    loc = tf.Variable(relaxed.igr_sb_initial_loc(max_categories), name="loc")
    log_scale = tf.Variable(tf.zeros([max_categories - 1]), name="log_scale")
    seeds = _fit_seeds(seed, "igr_sb", max_categories, num_steps)

    def family():
        return relaxed.distribution(
            "igr_sb_trunc",
            temperature,
            loc=loc,
            scale=tf.exp(log_scale),
            truncation=relaxed.Truncation(threshold, quantile),
        )

    def loss_fn(step_seed):
        draws = family().sample_with_truncation(samples_per_step, seed=step_seed)
        target = lumped_target(pmf, tail, draws.num_categories)
        loss = kl_target_to_relaxed_mean(target, log_relaxed_mean(draws.log_psi))
        return loss, draws.num_categories

    losses, used = fit_with_adam([loc, log_scale], loss_fn, seeds, num_steps, learning_rate)
    evaluation = family().sample_with_truncation(eval_samples, seed=seeds[num_steps])
    samples = tf.argmax(evaluation.pieces, axis=-1, output_type=tf.int32).numpy()
    record = {
        "family": "igr_sb",
        "num_categories": max_categories,
        "temperature": temperature,
        "threshold": threshold,
        "quantile": quantile,
        "parameters": {
            "loc": loc.numpy().astype(np.float64).tolist(),
            "scale": np.exp(log_scale.numpy()).astype(np.float64).tolist(),
        },
        "categories_used": int(evaluation.num_categories),
        "cap_hit": bool(evaluation.cap_hit),
        "categories_used_during_fit": {
            "first": used[0] if used else None,
            "last": used[-1] if used else None,
            "min": min(used) if used else None,
            "max": max(used) if used else None,
        },
        "initial_loss": losses[0] if losses else None,
        "final_loss": losses[-1] if losses else None,
    }
    record.update(
        histogram_metrics(samples, max_categories, distribution, int(evaluation.num_categories))
    )
    return record


def approximate(
    target: str,
    target_parameters: Mapping[str, Any],
    gs_num_categories: Sequence[int],
    gs_temperature: float,
    igr_sb_max_categories: int,
    igr_sb_temperature: float,
    igr_sb_threshold: float,
    igr_sb_quantile: float,
    num_steps: int,
    samples_per_step: int,
    learning_rate: float,
    eval_samples: int,
    seed: int,
) -> dict[str, Any]:
    """Every fit of one target: GS for each K, then truncated IGR-SB (written as JSON)."""
    distribution = target_distribution(target, target_parameters)
    common = {
        "num_steps": num_steps,
        "samples_per_step": samples_per_step,
        "learning_rate": learning_rate,
        "eval_samples": eval_samples,
        "seed": seed,
    }
    fits = [fit_gs(distribution, k, gs_temperature, **common) for k in sorted(gs_num_categories)]
    fits.append(
        fit_truncated_igr_sb(
            distribution,
            igr_sb_max_categories,
            igr_sb_temperature,
            igr_sb_threshold,
            igr_sb_quantile,
            **common,
        )
    )
    return {
        "target": target,
        "target_parameters": dict(target_parameters),
        "target_mean": float(distribution.mean()),
        "target_variance": float(distribution.var()),
        "loss": "KL(target lumped at the family's m categories || mean of relaxed samples)",
        "settings": {
            "gs_temperature": gs_temperature,
            "igr_sb_max_categories": igr_sb_max_categories,
            "igr_sb_temperature": igr_sb_temperature,
            "igr_sb_threshold": igr_sb_threshold,
            "igr_sb_quantile": igr_sb_quantile,
            **common,
        },
        "fits": fits,
    }


# --------------------------------------------------------------------------- CLI


def parse_target_parameters(items: Sequence[str]) -> dict[str, Any]:
    """``['rate=50']`` -> ``{'rate': 50.0}``; a comma-separated value becomes a list."""
    parameters: dict[str, Any] = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
        values = [float(v) for v in value.split(",")]
        parameters[key] = values if "," in value else values[0]
    return parameters


def _run_approximate(args: argparse.Namespace) -> int:
    configure_threads(args.threads)
    try:
        parameters = parse_target_parameters(args.parameter)
        target_distribution(args.target, parameters)
    except (ValueError, argparse.ArgumentTypeError) as error:
        raise SystemExit(f"igr approximate: {error}") from None
    record = approximate(
        target=args.target,
        target_parameters=parameters,
        gs_num_categories=args.gs_num_categories,
        gs_temperature=args.gs_temperature,
        igr_sb_max_categories=args.igr_sb_max_categories,
        igr_sb_temperature=args.igr_sb_temperature,
        igr_sb_threshold=args.igr_sb_threshold,
        igr_sb_quantile=args.igr_sb_quantile,
        num_steps=args.num_steps,
        samples_per_step=args.samples_per_step,
        learning_rate=args.learning_rate,
        eval_samples=args.eval_samples,
        seed=args.seed,
    )
    record["provenance"] = provenance.collect()
    write_json_atomic(args.output, record)
    for fit in record["fits"]:
        print(
            f"{args.target} {fit['family']} K={fit['num_categories']}: TV {fit['total_variation']:.3f}"
            f", mean {fit['mean']:.2f} (target {fit['target_mean']:.2f}),"
            f" categories used {fit['categories_used']}"
        )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr approximate``."""
    fit = subparsers.add_parser(
        "approximate",
        help="fit GS and truncated IGR-SB to one discrete target (spec section 3)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("--target", required=True, choices=TARGETS)
    fit.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="target parameter (rate; total_count, probs; weights=w0,w1,...)",
    )
    fit.add_argument("--gs-num-categories", nargs="+", type=at_least(2), required=True)
    fit.add_argument("--gs-temperature", type=positive_float, required=True)
    fit.add_argument("--igr-sb-max-categories", type=at_least(2), required=True)
    fit.add_argument("--igr-sb-temperature", type=positive_float, required=True)
    fit.add_argument("--igr-sb-threshold", type=float, required=True)
    fit.add_argument("--igr-sb-quantile", type=float, required=True)
    fit.add_argument("--num-steps", type=int, required=True, help="Adam steps per fit")
    fit.add_argument("--samples-per-step", type=positive_int, required=True)
    fit.add_argument("--learning-rate", type=positive_float, required=True)
    fit.add_argument("--eval-samples", type=positive_int, required=True)
    fit.add_argument("--seed", type=int, required=True)
    fit.add_argument("--threads", type=int, default=None, help="TensorFlow threads")
    fit.add_argument("--output", required=True, type=Path, help="JSON file to write")
    fit.set_defaults(func=_run_approximate)
