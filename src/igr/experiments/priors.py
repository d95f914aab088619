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
- IGR-Planar: its prior is IGR-I's (spec 1.4), so ``igr_planar_K{K}.json`` holds the same
  parameters as ``igr_i_K{K}.json`` (with ``"prior_family": "igr_i"``); the VAE stage reads
  one file per family it trains.
- IGR-SB: per-stick loc and log-scale (K-1 each) fitted with Adam, minimising
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

from igr.experiments._common import (
    at_least,
    configure_threads,
    divergences_from_uniform,
    family_seed,
    positive_float,
    positive_int,
)
from igr.families import families_of_stage, get_family
from igr.io import read_json, write_csv_atomic, write_json_atomic

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


def igr_i_uniform_loc(num_categories: int, scale: float) -> float:
    """mu0 with ``Phi(-mu0/sigma0)^(K-1) = 1/K``: ``mu0 = -sigma0 Phi^-1(K^(-1/(K-1)))``."""
    from scipy.stats import norm

    if num_categories < 2:
        raise ValueError(f"num_categories must be >= 2, got {num_categories}")
    return float(-scale * norm.ppf(num_categories ** (-1.0 / (num_categories - 1))))


def gs_prior(num_categories: int) -> dict[str, Any]:
    """GS prior: zero logits; its argmax law ``softmax(0) = 1/K`` is exact."""
    from igr.distributions import GumbelSoftmax

    logits = np.zeros(num_categories, dtype=np.float32)
    probs = GumbelSoftmax(logits=logits, temperature=1.0).argmax_probs()
    return {
        "logits": logits.tolist(),
        "argmax_probs": np.asarray(probs, dtype=np.float64).tolist(),
        "argmax_probs_method": "exact",
        "settings": {},
    }


def igr_i_prior(num_categories: int, scale: float) -> dict[str, Any]:
    """IGR-I prior in closed form (module docstring), checked by the exact argmax law."""
    from igr.distributions import IGRI

    loc = np.full(num_categories - 1, igr_i_uniform_loc(num_categories, scale), np.float32)
    scales = np.full(num_categories - 1, scale, np.float32)
    probs = IGRI(loc=loc, scale=scales, temperature=1.0).argmax_probs()
    return {
        "loc": loc.tolist(),
        "scale": scales.tolist(),
        "argmax_probs": np.asarray(probs, dtype=np.float64).tolist(),
        "argmax_probs_method": "exact",
        "settings": {"scale": scale},
    }


def igr_sb_initial_loc(num_categories: int) -> np.ndarray:
    """Start of the IGR-SB fit: stick k (1-based) at ``logit(1/(K-k+1))``.

    With these sticks every piece, the remainder included, has the same size when the noise
    is zero, so the fit starts near a uniform split of the unit stick.
    """
    k = np.arange(1, num_categories, dtype=np.float64)
    p = 1.0 / (num_categories - k + 1.0)
    return np.log(p / (1.0 - p)).astype(np.float32)


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

    Adam (Kingma & Ba) on theta = (loc, log scale) with gradient g at step t:
    ``m = b1 m + (1-b1) g``, ``v = b2 v + (1-b2) g^2``,
    ``theta -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)``, b1 = 0.9, b2 = 0.999,
    eps = 1e-8. Step t samples with ``seeds[t]``, the t-th of ``num_steps + 1`` stateless
    seeds split from ``(seed, family offset)``; the last one drives the evaluation.
    """
    import tensorflow as tf
    import tensorflow_probability as tfp

    from igr.distributions import IGRSB

    dims = num_categories - 1
    loc = tf.Variable(igr_sb_initial_loc(num_categories), name="loc")
    log_scale = tf.Variable(tf.zeros([dims]), name="log_scale")
    variables = (loc, log_scale)
    moments = [tf.Variable(tf.zeros([dims])) for _ in range(2 * len(variables))]
    seeds = tf.stack(tfp.random.split_seed(family_seed(seed, "igr_sb"), n=num_steps + 1))
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8
    log_k = math.log(num_categories)

    def loss_fn(step_seed: tf.Tensor) -> tf.Tensor:
        distribution = IGRSB(loc=loc, scale=tf.exp(log_scale), temperature=fit_temperature)
        relaxed = distribution.sample(samples_per_step, seed=step_seed)
        relaxed_argmax_law = tf.reduce_mean(relaxed, axis=0)
        return -log_k - tf.reduce_mean(tf.math.log(relaxed_argmax_law))

    @tf.function
    def adam_step(step: tf.Tensor, step_seed: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(step_seed)
        gradients = tape.gradient(loss, variables)
        t = tf.cast(step + 1, tf.float32)
        for index, (variable, gradient) in enumerate(zip(variables, gradients)):
            m, v = moments[2 * index], moments[2 * index + 1]
            m.assign(beta1 * m + (1.0 - beta1) * gradient)
            v.assign(beta2 * v + (1.0 - beta2) * tf.square(gradient))
            m_hat = m / (1.0 - tf.pow(beta1, t))
            v_hat = v / (1.0 - tf.pow(beta2, t))
            variable.assign_sub(learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon))
        return loss

    losses = [float(adam_step(tf.constant(step), seeds[step])) for step in range(num_steps)]
    scale = tf.exp(log_scale)
    probs = IGRSB(loc=loc, scale=scale, temperature=fit_temperature).argmax_probs(
        num_samples=eval_samples, seed=seeds[num_steps]
    )
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


def summarize_priors(prior_paths: list[str], table_path: str, figure_path: str) -> None:
    """Table of the divergences reached and a figure of every argmax law against uniform."""
    import pandas as pd

    from igr.reporting.figures import FAMILY_COLORS, family_label, plt, save_figure

    records = [read_json(path) for path in prior_paths]
    order = {family: index for index, family in enumerate(FAMILIES)}
    records.sort(key=lambda r: (r["num_categories"], order.get(r["family"], len(order))))
    table = pd.DataFrame(
        {
            "family": [r["family"] for r in records],
            "num_categories": [r["num_categories"] for r in records],
            "kl_uniform_to_learned": [r["divergence"]["kl_uniform_to_learned"] for r in records],
            "total_variation": [r["divergence"]["total_variation"] for r in records],
            "argmax_probs_method": [r["argmax_probs_method"] for r in records],
            "argmax_probs_num_samples": pd.array(
                [r.get("argmax_probs_num_samples") for r in records], dtype="Int64"
            ),
        }
    )
    write_csv_atomic(table_path, table)

    ks = sorted({r["num_categories"] for r in records})
    families = sorted({r["family"] for r in records}, key=lambda f: order.get(f, len(order)))
    figure, axes = plt.subplots(
        len(ks),
        len(families),
        figsize=(3.2 * len(families), 2.4 * len(ks)),
        squeeze=False,
        sharey="row",
    )
    by_key = {(r["family"], r["num_categories"]): r for r in records}
    for row, k in enumerate(ks):
        for column, family in enumerate(families):
            axis = axes[row][column]
            record = by_key.get((family, k))
            if record is None:
                axis.set_visible(False)
                continue
            categories = np.arange(1, k + 1)
            axis.bar(categories, record["argmax_probs"], color=FAMILY_COLORS.get(family), width=0.8)
            axis.axhline(1.0 / k, color="black", linestyle="--", linewidth=1, label="uniform")
            tv = record["divergence"]["total_variation"]
            axis.set_title(f"{family_label(family)}, K={k} (TV {tv:.1e})", fontsize=9)
            axis.set_xlabel("category")
            if column == 0:
                axis.set_ylabel("P(argmax = k)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper right", fontsize=8)
    figure.suptitle("Argmax law of the learned priors against uniform (dashed: 1/K)")
    figure.tight_layout()
    save_figure(figure, figure_path)


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
    configure_threads(args.threads)
    record = learn_prior(args.family, args.num_categories, **given)
    write_json_atomic(args.output, record)
    print(
        f"{args.family} K={args.num_categories}: KL(u||p) = "
        f"{record['divergence']['kl_uniform_to_learned']:.3g}, "
        f"TV = {record['divergence']['total_variation']:.3g} -> {args.output}"
    )
    return 0


def _run_summarize_priors(args: argparse.Namespace) -> int:
    summarize_priors(args.priors, args.output_table, args.output_figure)
    return 0


_ALL_OPTIONS = ("scale", *PRIOR_FAMILY_OPTIONS["igr_sb"])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr learn-prior`` and ``igr summarize-priors``."""
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

    summarize = subparsers.add_parser(
        "summarize-priors",
        help="table and figure of the learned priors' argmax laws",
    )
    summarize.add_argument("priors", nargs="+", help="prior JSON files (igr learn-prior)")
    summarize.add_argument("--output-table", required=True, type=Path)
    summarize.add_argument("--output-figure", required=True, type=Path)
    summarize.set_defaults(func=_run_summarize_priors)
