"""Stage "simplex proximity" (spec section 4): how close relaxed samples are to one-hot.

For each temperature tau of a grid and K categories, draw N samples psi of
- GS with uniform logits (zeros), and
- IGR-I with its uniform prior for each configured sigma0 (default 1, 2, 3): iid
  ``N(mu0, sigma0^2)`` coordinates with ``mu0`` in closed form (the priors stage's
  :func:`igr.experiments.priors.igr_i_prior`),
and measure the Euclidean distance of each sample to the vertex of its argmax,
``d(psi) = || psi - e_{argmax psi} ||_2``. ``d`` is 0 exactly at a vertex and at most
``sqrt(1 - 1/K)`` (at the centre of the simplex). Per (family, tau) the CSV holds the
mean, the quartiles and the median of ``d``; :mod:`igr.reporting.simplex_proximity` draws
the median with the interquartile band against tau and states the claim.

Why sigma0 matters: ``kappa = mu0 + sigma0 eps`` and ``mu0`` is proportional to sigma0, so
``kappa / tau = (mu0 / sigma0 + eps) / (tau / sigma0)``: IGR-I(sigma0, tau) is the same
distribution as IGR-I(1, tau / sigma0). At equal tau a larger sigma0 is a colder IGR-I, and
whether IGR-I lies nearer the vertices than GS depends on the arbitrary sigma0; the stage
therefore reports every sigma0 it is given.

Seeds: each family samples with its own stateless seed ``(seed, family offset)``, the same
at every temperature and sigma0 (common random numbers), so the curves against tau are
smooth and a change of the grid does not change the numbers at the other temperatures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from igr.experiments._common import (
    at_least,
    configure_threads,
    distance_to_argmax_vertex,
    family_seed,
    positive_float,
    positive_int,
)
from igr.families import families_of_stage
from igr.io import write_csv_atomic

FAMILIES: tuple[str, ...] = families_of_stage("simplex_proximity")


def sample_relaxed(
    family: str,
    num_categories: int,
    temperature: float,
    num_samples: int,
    seed: tuple[int, int],
    sigma0: float | None = None,
) -> np.ndarray:
    """``num_samples`` relaxed samples ``[N, K]`` of the family's uniform prior at ``tau``
    (IGR-I: the prior with coordinate scale ``sigma0``)."""
    from igr.experiments.priors import igr_i_prior
    from igr.models import relaxed

    if family == "gs":
        distribution = relaxed.distribution(
            "gs", temperature, logits=np.zeros(num_categories, np.float32)
        )
    elif family == "igr_i":
        if sigma0 is None:
            raise ValueError("IGR-I samples need sigma0 (--igr-i-scales)")
        prior = {"num_categories": num_categories, **igr_i_prior(num_categories, sigma0)}
        distribution = relaxed.prior("igr_i", prior, None, temperature)
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    return np.asarray(distribution.sample(num_samples, seed=seed))


def simplex_proximity(
    num_categories: int,
    temperatures: list[float],
    num_samples: int,
    seed: int,
    families: list[str],
    igr_i_scales: list[float] = (1.0,),
):
    """Summary ``DataFrame`` of the distances: one row per (family, sigma0, temperature);
    ``sigma0`` is empty for GS."""
    import pandas as pd

    rows = []
    for family in families:
        for sigma0 in igr_i_scales if family == "igr_i" else [None]:
            for temperature in temperatures:
                psi = sample_relaxed(
                    family, num_categories, temperature, num_samples, family_seed(seed, family),
                    sigma0,
                )
                distance = distance_to_argmax_vertex(psi)
                q25, median, q75 = np.quantile(distance, [0.25, 0.5, 0.75])
                rows.append(
                    {
                        "family": family,
                        "sigma0": sigma0,
                        "temperature": temperature,
                        "num_categories": num_categories,
                        "num_samples": num_samples,
                        "mean": float(np.mean(distance)),
                        "q25": float(q25),
                        "median": float(median),
                        "q75": float(q75),
                    }
                )
    return pd.DataFrame(rows)


def _run(args: argparse.Namespace) -> int:
    families = list(dict.fromkeys(args.families))
    configure_threads(args.threads)
    scales = sorted(set(args.igr_i_scales))
    table = simplex_proximity(
        args.num_categories, args.temperatures, args.num_samples, args.seed, families, scales
    )
    write_csv_atomic(args.output_table, table)
    print(f"simplex proximity: {len(table)} rows -> {args.output_table}")
    return 0


def _temperature(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"temperature must be > 0, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr simplex-proximity``."""
    parser = subparsers.add_parser(
        "simplex-proximity",
        help="distance of relaxed samples to the nearest vertex against tau (spec section 4)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--num-categories", required=True, type=at_least(2), metavar="K")
    parser.add_argument("--temperatures", required=True, nargs="+", type=_temperature)
    parser.add_argument("--num-samples", required=True, type=positive_int)
    parser.add_argument("--seed", required=True, type=int)
    parser.add_argument("--families", required=True, nargs="+", choices=FAMILIES)
    parser.add_argument(
        "--igr-i-scales",
        nargs="+",
        type=positive_float,
        default=[1.0, 2.0, 3.0],
        metavar="SIGMA0",
        help="coordinate scales sigma0 of the IGR-I priors compared with GS (default 1 2 3)",
    )
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow threads")
    parser.add_argument("--output-table", required=True, type=Path)
    parser.set_defaults(func=_run)
