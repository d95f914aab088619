"""Stage "temperatures": the calibrated temperature of each family and K.

One temperature for every family is not a fair comparison: IGR-SB's stick pieces lie in
[0, 1], so its logits span only 1/tau, while GS's and IGR-I's span the whole line. The
reference code chose one temperature per family instead; this stage computes it. For a
family with its learned uniform prior p_tau (the priors stage's file, spec 2), the
calibrated temperature is

    tau* = the largest tau with  P_{psi ~ p_tau}( ||psi - e_{argmax psi}||_2 <= d ) >= f,

defaults f = 0.75 and d = 0.2 (the reference's "_20" values). The fraction is estimated on
``num_samples`` fixed draws (one stateless seed, the same Gaussian / Gumbel noise at every
tau), so it is a deterministic, monotone step function of tau and bisection on log tau
between ``1e-4`` and ``1e2`` finds tau* to a relative precision of 1e-4 (far below the
sampling error of the fraction: about 1% of tau* at 10,000 draws).

IGR-Planar's prior is IGR-I's (no flow, spec 1.4), so its tau* equals IGR-I's; truncated
IGR-SB is calibrated with its truncation. The JSON record holds tau*, the fraction reached
there, the settings and the prior file's sha256.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from igr import provenance
from igr.experiments._common import (
    configure_threads,
    distance_to_argmax_vertex,
    family_seed,
    positive_float,
    positive_int,
)
from igr.experiments._inputs import check_output_path, read_prior_file
from igr.families import FAMILIES
from igr.io import write_json_atomic

#: Bisection bracket of tau, and the width in log tau at which it stops (1e-4 relative).
LOWEST, HIGHEST, LOG_PRECISION = 1e-4, 1e2, 1e-4


def fraction_near_vertex(
    family: str,
    prior: dict[str, Any],
    temperature: float,
    distance: float,
    num_samples: int,
    seed,
    truncation=None,
) -> float:
    """Share of ``num_samples`` draws of the prior at ``temperature`` within ``distance``."""
    from igr.models import relaxed

    distribution = relaxed.prior(family, prior, None, temperature, truncation=truncation)
    psi = distribution.sample(num_samples, seed=seed).numpy()
    return float(np.mean(distance_to_argmax_vertex(psi) <= distance))


def calibrate_temperature(
    family: str,
    prior: dict[str, Any],
    fraction: float,
    distance: float,
    num_samples: int,
    seed: int,
    truncation=None,
) -> dict[str, Any]:
    """tau* of the module docstring, with the fraction reached there (a record).

    The draws are seeded by the family whose law is drawn (IGR-Planar's prior is IGR-I's, so
    it gets IGR-I's draws and the same tau*; truncated IGR-SB keeps its own).
    """
    record = FAMILIES[family]
    drawn = family if record.truncated else record.prior_family
    draws_seed = family_seed(seed, drawn)

    def share(tau):
        return fraction_near_vertex(
            family, prior, tau, distance, num_samples, draws_seed, truncation
        )

    low, high = math.log(LOWEST), math.log(HIGHEST)
    if share(LOWEST) < fraction:
        raise ValueError(
            f"{family}: even at tau = {LOWEST:g} only {share(LOWEST):.3f} of the draws lie "
            f"within {distance} of a vertex (asked {fraction})"
        )
    if share(HIGHEST) >= fraction:
        low = high  # every tau up to the bracket qualifies
    while high - low > LOG_PRECISION:
        middle = 0.5 * (low + high)
        if share(math.exp(middle)) >= fraction:
            low = middle
        else:
            high = middle
    temperature = math.exp(low)
    return {
        "family": family,
        "num_categories": int(prior["num_categories"]),
        "temperature": temperature,
        "fraction_reached": share(temperature),
        "settings": {
            "fraction": fraction,
            "distance": distance,
            "num_samples": num_samples,
            "seed": seed,
            **(
                {"threshold": truncation.threshold, "quantile": truncation.quantile}
                if truncation
                else {}
            ),
        },
        "rule": (
            f"largest tau with at least {fraction:g} of {num_samples} prior draws within "
            f"{distance:g} of their argmax vertex"
        ),
    }


def _run(args: argparse.Namespace) -> int:
    from igr.training.run_folder import sha256_of_file

    check_output_path(args.output, "--output")
    if not 0 < args.fraction < 1:
        raise SystemExit(f"igr calibrate-temperature: --fraction must be in (0, 1), got {args.fraction}")
    prior = read_prior_file(args.prior, args.family, args.num_categories, None)
    configure_threads(args.threads)
    from igr.models import relaxed

    truncation = None
    if FAMILIES[args.family].truncated:
        truncation = relaxed.Truncation(args.threshold, args.quantile)
    record = calibrate_temperature(
        args.family, prior, args.fraction, args.distance, args.num_samples, args.seed, truncation
    )
    record["prior_file"] = str(args.prior)
    record["prior_sha256"] = sha256_of_file(args.prior)
    record["provenance"] = provenance.collect()
    write_json_atomic(args.output, record)
    print(
        f"{args.family} K={args.num_categories}: tau = {record['temperature']:.4g} "
        f"({record['fraction_reached']:.3f} within {args.distance}) -> {args.output}"
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr calibrate-temperature``."""
    parser = subparsers.add_parser(
        "calibrate-temperature",
        help="the temperature at which a share f of prior draws lies near a vertex",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--family", required=True, choices=tuple(FAMILIES))
    parser.add_argument("--prior", required=True, type=Path, help="priors-stage JSON file")
    parser.add_argument("--num-categories", required=True, type=positive_int, metavar="K")
    parser.add_argument("--fraction", type=float, default=0.75, help="f (default 0.75)")
    parser.add_argument("--distance", type=positive_float, default=0.2, help="d (default 0.2)")
    parser.add_argument("--num-samples", type=positive_int, default=10000)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--threshold", type=positive_float, default=0.9, help="truncated IGR-SB")
    parser.add_argument("--quantile", type=positive_float, default=0.75, help="truncated IGR-SB")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", required=True, type=Path)
    parser.set_defaults(func=_run)
