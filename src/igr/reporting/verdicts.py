"""One vocabulary for every claim of every stage, and when a verdict must abstain.

A verdict is one of

- **supported**: the run shows what the paper claims, by more than the margin;
- **contradicted**: the run shows the opposite, by more than the margin;
- **inconclusive**: the comparison is sound but cannot decide: too few seeds
  (``claims.min_seeds``), or the difference lies within the margin (the spread);
- **not assessable**: a run of the comparison is degenerate, so comparing it means
  nothing: a collapsed posterior (mean KL per variable below
  ``claims.collapse_kl_per_variable``), a relaxation gap above ``claims.max_relaxation_gap``
  (the discrete bound scores one-hot codes the decoder never saw), non-finite values, or a
  family the comparison needs is missing.

Each comes with its reason in words, and every claim states the run's scale (dataset,
epochs, seeds, and the configured ``claims.scale``: smoke, reduced or paper).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
INCONCLUSIVE = "inconclusive"
NOT_ASSESSABLE = "not assessable"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_ASSESSABLE)

#: What each configured scale means, as stated in the claims.
SCALE_MEANINGS = {
    "smoke": "smoke scale: a fast check that the pipeline runs, not evidence about the paper",
    "reduced": "reduced scale: fewer epochs and seeds than the paper",
    "paper": "paper scale",
}


@dataclass(frozen=True)
class ClaimSettings:
    """The ``claims`` section of the config (defaults as in the schema)."""

    scale: str = "smoke"
    min_seeds: int = 2
    collapse_kl_per_variable: float = 0.05
    max_relaxation_gap: float = 20.0

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ClaimSettings:
        return cls(
            args.claims_scale,
            args.claims_min_seeds,
            args.claims_collapse_kl_per_variable,
            args.claims_max_relaxation_gap,
        )


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; known: {VERDICTS}")

    def markdown(self) -> str:
        return f"**{self.verdict}** ({self.reason})"


def compare(
    difference: float, margin: float, seeds: int, settings: ClaimSettings, what: str
) -> Verdict:
    """The verdict on "the claimed side is better by ``difference``" (> 0 favours the claim).

    ``margin`` is the spread the difference must exceed; ``seeds`` the fewest seeds of the
    two sides; ``what`` names the quantity in the reason.
    """
    if not (math.isfinite(difference) and math.isfinite(margin)):
        return Verdict(NOT_ASSESSABLE, f"{what}: non-finite values")
    direction = "in favour of the claim" if difference > 0 else "against the claim"
    observed = f"{what} differs by {difference:+.3g} ({direction}), margin {margin:.3g}"
    if seeds < settings.min_seeds:
        return Verdict(
            INCONCLUSIVE,
            f"{observed}; {seeds} seed(s), at least {settings.min_seeds} needed to judge",
        )
    if abs(difference) <= margin:
        return Verdict(INCONCLUSIVE, f"{observed}: within the margin")
    return Verdict(SUPPORTED if difference > 0 else CONTRADICTED, observed)


def degenerate_reason(
    kl_per_variable: float, relaxation_gap: float, settings: ClaimSettings
) -> str | None:
    """Why a VAE run is degenerate (module docstring), or None when it is not."""
    if not (math.isfinite(kl_per_variable) and math.isfinite(relaxation_gap)):
        return "non-finite diagnostics"
    if kl_per_variable < settings.collapse_kl_per_variable:
        return (
            f"posterior collapse: mean KL per variable {kl_per_variable:.3g} nats "
            f"< {settings.collapse_kl_per_variable:g}"
        )
    if relaxation_gap > settings.max_relaxation_gap:
        return (
            f"relaxation gap {relaxation_gap:.3g} nats > {settings.max_relaxation_gap:g}: "
            "the bound scores codes the decoder never saw"
        )
    return None


def scale_statement(facts: Mapping[str, object], settings: ClaimSettings) -> str:
    """``Scale: dataset mnist, 40 epochs, 2 seeds; reduced scale: ...``."""
    parts = [f"{key} {value}" for key, value in facts.items()]
    return f"Scale: {', '.join(parts)}; {SCALE_MEANINGS[settings.scale]}."


def add_claim_options(parser: argparse.ArgumentParser) -> None:
    """The ``claims`` section as options of a summarize command (schema defaults)."""
    defaults = ClaimSettings()
    parser.add_argument("--claims-scale", choices=tuple(SCALE_MEANINGS), default=defaults.scale,
                        help="scale of the run stated in every claim (config claims.scale)")
    parser.add_argument("--claims-min-seeds", type=int, default=defaults.min_seeds,
                        help="fewer seeds per family make a verdict inconclusive")
    parser.add_argument(
        "--claims-collapse-kl-per-variable", type=float, default=defaults.collapse_kl_per_variable,
        help="nats; a VAE whose mean KL per variable is below has collapsed (not assessable)",
    )
    parser.add_argument(
        "--claims-max-relaxation-gap", type=float, default=defaults.max_relaxation_gap,
        help="nats; a larger relaxation gap makes a VAE run not assessable",
    )
