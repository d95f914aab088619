"""Stage "simplex proximity" (spec section 4): how close relaxed samples are to one-hot.

For each temperature tau of a grid and K categories, draw N samples psi of
- GS with uniform logits (zeros), and
- IGR-I with the learned uniform prior (the ``igr_i_K{K}.json`` file of the priors stage),
and measure the Euclidean distance of each sample to the vertex of its argmax,
``d(psi) = || psi - e_{argmax psi} ||_2``. ``d`` is 0 exactly at a vertex and at most
``sqrt(1 - 1/K)`` (at the centre of the simplex). Per (family, tau) the CSV holds the
mean, the quartiles and the median of ``d``; :mod:`igr.reporting.simplex_proximity` draws
the median with the interquartile band against tau and states the claim.

Seeds: each family samples with its own stateless seed ``(seed, family offset)``, the same
at every temperature (common random numbers), so the curves against tau are smooth and a
change of the grid does not change the numbers at the other temperatures.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from igr.experiments._common import (
    at_least,
    configure_threads,
    distance_to_argmax_vertex,
    family_seed,
    positive_int,
)
from igr.families import families_of_stage
from igr.io import read_json, write_csv_atomic

FAMILIES: tuple[str, ...] = families_of_stage("simplex_proximity")


def load_igr_i_prior(path: str | Path, num_categories: int) -> dict[str, Any]:
    """Read an IGR-I prior file of the priors stage and check that it is for K categories."""
    prior = read_json(path)
    if prior.get("prior_family") != "igr_i" or prior.get("num_categories") != num_categories:
        raise ValueError(
            f"{path}: expected an IGR-I prior for K={num_categories}, found family "
            f"{prior.get('family')!r} with K={prior.get('num_categories')}"
        )
    return prior


def sample_relaxed(
    family: str,
    num_categories: int,
    temperature: float,
    num_samples: int,
    seed: tuple[int, int],
    igr_i_prior: dict[str, Any] | None = None,
) -> np.ndarray:
    """``num_samples`` relaxed samples ``[N, K]`` of the family's uniform prior at ``tau``."""
    from igr.models import relaxed

    if family == "gs":
        distribution = relaxed.distribution(
            "gs", temperature, logits=np.zeros(num_categories, np.float32)
        )
    elif family == "igr_i":
        if igr_i_prior is None:
            raise ValueError("IGR-I samples need the learned IGR-I prior (--igr-i-prior)")
        distribution = relaxed.prior("igr_i", igr_i_prior, None, temperature)
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    return np.asarray(distribution.sample(num_samples, seed=seed))


def simplex_proximity(
    num_categories: int,
    temperatures: list[float],
    num_samples: int,
    seed: int,
    families: list[str],
    igr_i_prior: dict[str, Any] | None = None,
):
    """Summary ``DataFrame`` of the distances: one row per (family, temperature)."""
    import pandas as pd

    rows = []
    for family in families:
        for temperature in temperatures:
            psi = sample_relaxed(
                family,
                num_categories,
                temperature,
                num_samples,
                family_seed(seed, family),
                igr_i_prior,
            )
            distance = distance_to_argmax_vertex(psi)
            q25, median, q75 = np.quantile(distance, [0.25, 0.5, 0.75])
            rows.append(
                {
                    "family": family,
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
    if "igr_i" in families and args.igr_i_prior is None:
        raise SystemExit("igr simplex-proximity: family igr_i needs --igr-i-prior")
    configure_threads(args.threads)
    prior = load_igr_i_prior(args.igr_i_prior, args.num_categories) if "igr_i" in families else None
    table = simplex_proximity(
        args.num_categories, args.temperatures, args.num_samples, args.seed, families, prior
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
    parser.add_argument("--igr-i-prior", type=Path, help="IGR-I prior JSON (igr learn-prior)")
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow threads")
    parser.add_argument("--output-table", required=True, type=Path)
    parser.set_defaults(func=_run)
