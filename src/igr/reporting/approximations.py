"""Report of the approximations stage: one table, one histogram figure, one claim check.

The claim of the paper (spec section 8): "IGR-SB approximates Poisson(50) where GS with too
few categories cannot". This run supports it when, for the ``poisson`` target with rate 50,

- truncated IGR-SB reaches total variation ``<= CLAIM_IGR_SB_MAX_TV`` (0.2), and
- GS with K = 20 and K = 40 (those present) both stay at ``>= CLAIM_GS_MIN_TV`` (0.5).

(GS with K categories cannot place mass at K or beyond; Poisson(50) has 93.5% of its mass at
40 or more, so a GS with K <= 40 has TV >= 0.93 whatever its logits.)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from igr.io import read_json, write_csv_atomic
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

CLAIM_IGR_SB_MAX_TV = 0.2
CLAIM_GS_MIN_TV = 0.5
CLAIM_GS_CATEGORIES = (20, 40)
CLAIM = "IGR-SB covers Poisson(50) where GS with 20 or 40 categories cannot"

TABLE_COLUMNS = (
    "target",
    "family",
    "num_categories",
    "categories_used",
    "cap_hit",
    "total_variation",
    "total_variation_lumped",
    "kl_histogram_to_lumped_target",
    "mass_outside_target_support",
    "last_category_share",
    "target_tail_mass",
    "mean",
    "target_mean",
    "variance",
    "target_variance",
    "share_at_or_above_50",
    "target_share_at_or_above_50",
    "final_loss",
)


def approximation_rows(records: Sequence[dict]) -> list[dict]:
    """One row per (target, family, K), targets in file order."""
    rows = []
    for record in records:
        for fit in record["fits"]:
            row = {column: fit.get(column) for column in TABLE_COLUMNS}
            row["target"] = record["target"]
            rows.append(row)
    return rows


def claim_check(records: Sequence[dict], claim_settings: ClaimSettings | None = None) -> dict:
    """The verdict on :data:`CLAIM` (module docstring) with its reason and the run's scale.

    supported: truncated IGR-SB reaches TV <= 0.2 and GS with K = 20 and 40 stay at >= 0.5;
    contradicted: IGR-SB stays at TV > 0.5, or a GS with K = 20 or 40 reaches <= 0.2;
    inconclusive: in between; not assessable: the run lacks the target or a family, or a
    distance is not finite.
    """
    poisson = [
        r for r in records if r["target"] == "poisson" and r["target_parameters"].get("rate") == 50
    ]

    def result(verdict: Verdict, scale: str = "") -> dict:
        return {"claim": CLAIM, "verdict": verdict.verdict, "reason": verdict.reason,
                "scale": scale}

    if not poisson:
        return result(Verdict(NOT_ASSESSABLE, "no Poisson(50) target in this run"))
    record = poisson[0]
    fits = record["fits"]
    settings = record.get("settings", {})
    facts = {
        "Adam steps per fit": settings.get("num_steps", "?"),
        "samples per step": settings.get("samples_per_step", "?"),
        "argmax samples": settings.get("eval_samples", "?"),
        "seeds": 1,
    }
    scale = scale_statement(facts, claim_settings or ClaimSettings())
    sb = [f for f in fits if f["family"] == "igr_sb"]
    gs = [f for f in fits if f["family"] == "gs" and f["num_categories"] in CLAIM_GS_CATEGORIES]
    if not sb or not gs:
        return result(Verdict(
            NOT_ASSESSABLE, "needs truncated IGR-SB and GS with K = 20 or 40 on Poisson(50)"
        ), scale)
    sb_tv = sb[0]["total_variation"]
    gs_tv = {f["num_categories"]: f["total_variation"] for f in gs}
    evidence = (
        f"TV to Poisson(50): IGR-SB {sb_tv:.3f} (needs <= {CLAIM_IGR_SB_MAX_TV}, using "
        f"{sb[0]['categories_used']} categories); "
        + ", ".join(f"GS K={k} {tv:.3f}" for k, tv in sorted(gs_tv.items()))
        + f" (need >= {CLAIM_GS_MIN_TV}); share of samples >= 50: IGR-SB "
        f"{sb[0]['share_at_or_above_50']:.3f}, "
        + ", ".join(f"GS K={f['num_categories']} {f['share_at_or_above_50']:.3f}" for f in gs)
        + f", target {sb[0]['target_share_at_or_above_50']:.3f}"
    )
    values = [sb_tv, *gs_tv.values()]
    if not all(math.isfinite(v) for v in values):
        verdict = NOT_ASSESSABLE
    elif sb_tv <= CLAIM_IGR_SB_MAX_TV and min(gs_tv.values()) >= CLAIM_GS_MIN_TV:
        verdict = SUPPORTED
    elif sb_tv > CLAIM_GS_MIN_TV or min(gs_tv.values()) <= CLAIM_IGR_SB_MAX_TV:
        verdict = CONTRADICTED
    else:
        verdict = INCONCLUSIVE
    return result(Verdict(verdict, evidence), scale)


def summarize_approximations(
    fit_paths: Sequence[str],
    table_path: str,
    figure_path: str,
    claim_path: str,
    claim_settings: ClaimSettings | None = None,
) -> None:
    """Write the table (CSV), the histogram figure and the claim check (CSV)."""
    import pandas as pd

    from igr.experiments.approximations import target_distribution, target_pmf_and_tail
    from igr.reporting.figures import FAMILY_COLORS, family_label, plt, save_figure

    records = [read_json(path) for path in fit_paths]
    write_csv_atomic(table_path, pd.DataFrame(approximation_rows(records), columns=TABLE_COLUMNS))
    write_csv_atomic(claim_path, pd.DataFrame([claim_check(records, claim_settings)]))

    num_columns = max(len(r["fits"]) for r in records)
    figure, axes = plt.subplots(
        len(records),
        num_columns,
        figsize=(3.0 * num_columns, 2.3 * len(records)),
        squeeze=False,
    )
    for row, record in enumerate(records):
        distribution = target_distribution(record["target"], record["target_parameters"])
        for column in range(num_columns):
            axis = axes[row][column]
            if column >= len(record["fits"]):
                axis.set_visible(False)
                continue
            fit = record["fits"][column]
            # x range: the target's bulk and the family's whole support (K or m categories)
            upper = max(int(distribution.ppf(0.9999)) + 2, int(fit["categories_used"]))
            pmf, _ = target_pmf_and_tail(distribution, upper)
            histogram = np.zeros(upper)
            shown = np.asarray(fit["histogram"])[:upper]
            histogram[: shown.size] = shown
            name = family_label(fit["family"])
            axis.bar(
                np.arange(upper),
                histogram,
                width=1.0,
                color=FAMILY_COLORS[fit["family"]],
                alpha=0.7,
                label=f"{name} fit (argmax samples)",
            )
            axis.step(
                np.arange(upper),
                pmf,
                where="mid",
                color="black",
                linewidth=1,
                label="target pmf",
            )
            # The family's last category stands for "this value or more": the fit puts the
            # target's tail there (module docstring), hence its spike; show the lumped target.
            last = int(fit["categories_used"]) - 1
            if 0 <= last < upper:
                lumped = max(0.0, 1.0 - float(np.sum(pmf[:last])))
                axis.bar([last], [histogram[last]], width=1.0, facecolor="none",
                         edgecolor="black", hatch="///", linewidth=0.6,
                         label="last category (holds the tail beyond it)")
                axis.plot([last], [lumped], marker="o", color="black", markersize=3,
                          linestyle="none", label="target mass lumped there")
            if column == 0:
                axis.set_ylabel("probability", fontsize=8)
            k = (
                f"K={fit['num_categories']}"
                if fit["family"] == "gs"
                else f"cap {fit['num_categories']}, used {fit['categories_used']}"
            )
            axis.set_title(
                f"{record['target']}: {name} {k}\nTV {fit['total_variation']:.2f}",
                fontsize=8,
            )
            axis.tick_params(labelsize=7)
            if row == len(records) - 1:
                axis.set_xlabel("value k", fontsize=8)
    legend: dict[str, object] = {}
    for axis in axes.ravel():
        for handle, label in zip(*axis.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    figure.suptitle("Argmax samples of the fitted families against the target pmf")
    figure.tight_layout(rect=(0, 0, 1, 1 - 0.5 / figure.get_figheight()))
    figure.legend(list(legend.values()), list(legend.keys()), loc="upper center", ncol=3,
                  fontsize=7, bbox_to_anchor=(0.5, 1 - 0.3 / figure.get_figheight()),
                  frameon=False)
    save_figure(figure, figure_path)


def _run_summarize(args: argparse.Namespace) -> int:
    summarize_approximations(
        args.fits,
        args.output_table,
        args.output_figure,
        args.output_claim,
        ClaimSettings.from_args(args),
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr summarize-approximations``."""
    summarize = subparsers.add_parser(
        "summarize-approximations",
        help="table, histogram figure and claim check of the approximation fits",
    )
    summarize.add_argument("fits", nargs="+", help="JSON files of igr approximate")
    summarize.add_argument("--output-table", required=True, type=Path)
    summarize.add_argument("--output-figure", required=True, type=Path)
    summarize.add_argument("--output-claim", required=True, type=Path)
    add_claim_options(summarize)
    summarize.set_defaults(func=_run_summarize)
