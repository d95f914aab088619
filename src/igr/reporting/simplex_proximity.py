"""Reporting of the simplex-proximity stage (spec section 4): figure and claim statement.

Reads the distance table of ``igr simplex-proximity`` (one row per family, sigma0 and
temperature: mean, quartiles and median of ``||psi - e_argmax psi||``).

Claim: "IGR samples concentrate nearer the vertices (than GS)", judged per sigma0 in the
one vocabulary (:mod:`igr.reporting.verdicts`): supported when IGR-I's median distance is
smaller than GS's at every temperature, contradicted when it is larger at every
temperature, inconclusive when it depends on the temperature, not assessable without both
families. The statement explains why sigma0 decides it: IGR-I(sigma0, tau) is the same
distribution as IGR-I(1, tau / sigma0).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from igr.io import write_text_atomic
from igr.reporting.figures import FAMILY_COLORS, family_label, plt, save_figure
from igr.reporting.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_ASSESSABLE,
    SUPPORTED,
    ClaimSettings,
    Verdict,
    add_claim_options,
    scale_statement,
)

EQUIVALENCE = (
    "IGR-I(sigma0, tau) is the same distribution as IGR-I(1, tau / sigma0): the uniform "
    "prior's mu0 is proportional to sigma0, so kappa / tau = (mu0 / sigma0 + eps) / "
    "(tau / sigma0). At equal tau a larger sigma0 is a colder IGR-I, so the comparison with "
    "GS at equal temperature depends on the arbitrary sigma0."
)


def _series(table):
    """``[(label, colour, style, rows)]``: GS, then IGR-I once per sigma0."""
    series = []
    for family, rows in table.groupby("family", sort=False):
        if family == "igr_i":
            for index, (sigma0, part) in enumerate(rows.groupby("sigma0", sort=True)):
                style = ("-", "--", ":", "-.")[index % 4]
                series.append((f"{family_label(family)}, sigma0 = {sigma0:g}",
                               FAMILY_COLORS.get(family), style, part))
        else:
            series.append((family_label(family), FAMILY_COLORS.get(family), "-", rows))
    return series


def plot_simplex_proximity(table, figure_path: str | Path) -> None:
    """Median distance to the argmax vertex against tau, with the interquartile band."""
    figure, axis = plt.subplots(figsize=(6.0, 3.8))
    for label, color, style, rows in _series(table):
        rows = rows.sort_values("temperature")
        axis.plot(rows["temperature"], rows["median"], marker="o", markersize=3, color=color,
                  linestyle=style, label=label)
        axis.fill_between(rows["temperature"], rows["q25"], rows["q75"], color=color, alpha=0.12)
    num_categories = int(table["num_categories"].iloc[0])
    num_samples = int(table["num_samples"].iloc[0])
    axis.set_xlabel("temperature tau")
    axis.set_ylabel("||psi - e_argmax||  (median, IQR)")
    axis.set_title(
        f"Distance of samples to the nearest vertex (K={num_categories}, N={num_samples})\n"
        "IGR-I(sigma0, tau) = IGR-I(1, tau / sigma0)",
        fontsize=9,
    )
    axis.set_ylim(bottom=0)
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    save_figure(figure, figure_path)


def sigma0_verdict(medians_gs, medians_igr) -> tuple[Verdict, int, int]:
    """``(verdict, temperatures where IGR-I is nearer, temperatures compared)``."""
    common = sorted(set(medians_gs.index) & set(medians_igr.index))
    values = [(medians_igr[t], medians_gs[t]) for t in common]
    if not values or not all(math.isfinite(a) and math.isfinite(b) for a, b in values):
        return Verdict(NOT_ASSESSABLE, "no finite medians at common temperatures"), 0, 0
    nearer = sum(a < b for a, b in values)
    if nearer == len(values):
        verdict, how = SUPPORTED, "nearer at every temperature"
    elif nearer == 0:
        verdict, how = CONTRADICTED, "farther at every temperature"
    else:
        verdict, how = INCONCLUSIVE, "nearer at some temperatures only: it depends on tau"
    reason = f"IGR-I's median distance is {how} ({nearer} of {len(values)})"
    return Verdict(verdict, reason), nearer, len(values)


def proximity_claim(table, settings: ClaimSettings | None = None) -> str:
    """Markdown statement on "IGR samples concentrate nearer the vertices", per sigma0."""
    settings = settings or ClaimSettings()
    lines = ["# Claim: IGR samples concentrate nearer the vertices (than GS)", ""]
    gs = table[table["family"] == "gs"]
    igr = table[table["family"] == "igr_i"]
    if gs.empty or igr.empty:
        verdict = Verdict(NOT_ASSESSABLE, "the run needs both GS and IGR-I")
        return "\n".join(lines + [f"- {verdict.markdown()}"]) + "\n"
    medians_gs = gs.set_index("temperature")["median"]
    k = int(table["num_categories"].iloc[0])
    n = int(table["num_samples"].iloc[0])
    for sigma0, rows in igr.groupby("sigma0", sort=True):
        medians_igr = rows.set_index("temperature")["median"]
        verdict, _, _ = sigma0_verdict(medians_gs, medians_igr)
        lines.append(f"- sigma0 = {sigma0:g}: {verdict.markdown()}")
        for temperature in sorted(medians_igr.index):
            gs_value = medians_gs.get(temperature, float("nan"))
            lines.append(
                f"  - tau = {temperature:g}: IGR-I {medians_igr[temperature]:.3f}, GS {gs_value:.3f}"
            )
    facts = {"K": k, "samples per temperature": n, "temperatures": len(medians_gs)}
    lines += ["", scale_statement(facts, settings), "", EQUIVALENCE,
              "GS draws from uniform logits; IGR-I from its uniform prior for each sigma0."]
    return "\n".join(lines) + "\n"


def _run_summarize(args: argparse.Namespace) -> int:
    import pandas as pd

    table = pd.read_csv(args.table)
    plot_simplex_proximity(table, args.output_figure)
    write_text_atomic(args.output_claims, proximity_claim(table, ClaimSettings.from_args(args)))
    print(f"simplex proximity: -> {args.output_figure}, {args.output_claims}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr summarize-simplex-proximity``."""
    parser = subparsers.add_parser(
        "summarize-simplex-proximity",
        help="figure and claim statement of the simplex-proximity table",
    )
    parser.add_argument("table", type=Path, help="CSV written by igr simplex-proximity")
    parser.add_argument("--output-figure", required=True, type=Path)
    parser.add_argument("--output-claims", required=True, type=Path, help="Markdown statement")
    add_claim_options(parser)
    parser.set_defaults(func=_run_summarize)
