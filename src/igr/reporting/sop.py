"""Report of the SOP stage: table over seeds, figure of predicted lower halves, claim check.

Table: per (dataset, family), the test loss ``-log (1/M) sum_m p(x_low | z_m)`` with M hard
samples, mean and sample standard deviation (ddof = 1; 0 for one seed) over seeds, the
per-seed values, the one-relaxed-sample test loss and the final training loss (means).

Claim (spec section 8): "IGR has lower SOP loss" than GS, judged in the one vocabulary
(:mod:`igr.reporting.verdicts`) on the best IGR family (:attr:`igr.families.Family.igr`)
against GS: supported or contradicted when the difference of mean test losses exceeds the
larger of the two standard deviations over seeds with at least ``claims.min_seeds`` seeds,
inconclusive otherwise, not assessable without GS and an IGR family or with non-finite
losses. The reason names every IGR family's difference to GS; the claim states the run's
scale. The baselines ST-GS and ReinMax (0/1 values forward, :mod:`igr.models.sop`) are in
the table and the figure but take no part in the claim; its reason says so when they ran.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from igr.commands import command_group
from igr.families import FAMILIES, families_of_stage, family_label
from igr.io import read_json, write_csv_atomic
from igr.reporting.verdicts import (
    NOT_ASSESSABLE,
    ClaimSettings,
    Verdict,
    add_claim_options,
    compare,
    scale_statement,
)

CLAIM = "IGR has lower SOP loss than GS"
FAMILY_ORDER = families_of_stage("sop")
#: The side of the claim against GS (registry order).
IGR_FAMILIES = tuple(name for name in FAMILY_ORDER if FAMILIES[name].igr)
#: Families in the table and figure that the claim leaves out (the straight-through baselines).
BASELINES = tuple(name for name in FAMILY_ORDER if name != "gs" and name not in IGR_FAMILIES)


def sop_table_rows(evaluations: Sequence[dict]) -> list[dict]:
    """One row per (dataset, family): test loss mean and sd over seeds."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in evaluations:
        settings = record["settings"]
        groups.setdefault((settings["dataset"], settings["family"]), []).append(record)
    order = {family: index for index, family in enumerate(FAMILY_ORDER)}
    rows = []
    for (dataset, family), records in sorted(
        groups.items(), key=lambda item: (item[0][0], order.get(item[0][1], 99))
    ):
        records.sort(key=lambda r: r["settings"]["seed"])
        losses = np.array([r["test_loss"] for r in records], dtype=np.float64)
        rows.append(
            {
                "dataset": dataset,
                "family": family,
                "temperature": records[0]["settings"]["temperature"],
                "temperature_source": records[0].get("temperature_source", {}).get("kind", "given"),
                "epochs": records[0]["settings"].get("epochs", "?"),
                "num_seeds": len(records),
                "test_loss_mean": float(losses.mean()),
                "test_loss_sd": float(losses.std(ddof=1)) if len(losses) > 1 else 0.0,
                "test_loss_per_seed": " ".join(f"{value:.4f}" for value in losses),
                "seeds": " ".join(str(r["settings"]["seed"]) for r in records),
                "num_hard_samples": records[0]["num_samples"],
                "test_examples": records[0]["test_examples"],
                "test_loss_relaxed_one_sample_mean": float(
                    np.mean([r["test_loss_relaxed_one_sample"] for r in records])
                ),
                "final_train_loss_mean": float(np.mean([r["final_train_loss"] for r in records])),
            }
        )
    best = {}
    for row in rows:
        current = best.get(row["dataset"])
        if current is None or row["test_loss_mean"] < current:
            best[row["dataset"]] = row["test_loss_mean"]
    for row in rows:
        row["best"] = row["test_loss_mean"] == best[row["dataset"]]
    return rows


def claim_check(rows: Sequence[dict], settings: ClaimSettings | None = None) -> dict:
    """The verdict on :data:`CLAIM` (module docstring), its reason and the run's scale."""
    settings = settings or ClaimSettings()
    gs = [row for row in rows if row["family"] == "gs"]
    igr = [row for row in rows if row["family"] in IGR_FAMILIES]
    present = {row["family"] for row in rows}
    baselines = [family_label(f) for f in BASELINES if f in present]
    left_out = (
        f"; the baselines {', '.join(baselines)} (0/1 values forward) are in the table but "
        "take no part in this claim"
        if baselines
        else ""
    )
    if not gs or not igr:
        verdict = Verdict(NOT_ASSESSABLE, "needs GS and an IGR family")
        return {
            "claim": CLAIM,
            "verdict": verdict.verdict,
            "reason": verdict.reason + left_out,
            "scale": "",
        }
    reference = gs[0]
    best = min(igr, key=lambda row: row["test_loss_mean"])
    verdict = compare(
        reference["test_loss_mean"] - best["test_loss_mean"],
        max(best["test_loss_sd"], reference["test_loss_sd"]),
        min(best["num_seeds"], reference["num_seeds"]),
        settings,
        f"test loss of the best IGR family ({family_label(best['family'])}) against GS",
    )
    others = "; ".join(
        f"{family_label(row['family'])} {row['test_loss_mean']:.3f} +- {row['test_loss_sd']:.3f}"
        f" ({row['test_loss_mean'] - reference['test_loss_mean']:+.3f})"
        for row in igr
    )
    reason = (
        f"{verdict.reason}; GS {reference['test_loss_mean']:.3f} +- "
        f"{reference['test_loss_sd']:.3f}; {others}{left_out}"
    )
    facts = {
        "dataset": reference["dataset"],
        "epochs": reference.get("epochs", "?"),
        "seeds per family": min(row["num_seeds"] for row in gs + igr),
        "hard samples": reference["num_hard_samples"],
    }
    return {
        "claim": CLAIM,
        "verdict": verdict.verdict,
        "reason": reason,
        "scale": scale_statement(facts, settings),
    }


def summarize_sop(
    evaluation_paths: Sequence[str],
    table_path: str,
    figure_path: str,
    claim_path: str,
    settings: ClaimSettings | None = None,
) -> None:
    """Write the table and claim (CSV) and the figure of predicted lower halves."""
    import pandas as pd

    from igr.reporting.figures import family_label, plt, save_figure

    evaluations = [read_json(path) for path in evaluation_paths]
    rows = sop_table_rows(evaluations)
    write_csv_atomic(table_path, pd.DataFrame(rows))
    write_csv_atomic(claim_path, pd.DataFrame([claim_check(rows, settings)]))

    # Figure: the first seed of every family; rows = test images, columns = truth, families.
    first_seed: dict[str, dict] = {}
    for record in sorted(evaluations, key=lambda r: r["settings"]["seed"]):
        first_seed.setdefault(record["settings"]["family"], record)
    families = [f for f in FAMILY_ORDER if f in first_seed] + sorted(
        set(first_seed) - set(FAMILY_ORDER)
    )
    reference = first_seed[families[0]]
    height, width, _ = reference["image_shape"]
    truth = np.asarray(reference["truth"]).reshape(-1, height, width)
    num_images = truth.shape[0]
    figure, axes = plt.subplots(
        1 + len(families),
        num_images,
        figsize=(1.1 * num_images + 0.8, 1.2 * (1 + len(families))),
        squeeze=False,
    )
    row_images = [("truth", list(truth))]
    for family in families:
        predicted = np.asarray(first_seed[family]["predicted_lower"]).reshape(
            -1, height // 2, width
        )
        row_images.append(
            (
                family_label(family),
                [
                    np.concatenate([truth[i, : height // 2], predicted[i]])
                    for i in range(num_images)
                ],
            )
        )
    for row, (title, images) in enumerate(row_images):
        for column, image in enumerate(images):
            axis = axes[row][column]
            shown = axis.imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0,
                                interpolation="nearest")
            axis.axhline(height / 2 - 0.5, color="tab:red", linewidth=0.8)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(title, fontsize=8)
    figure.suptitle("Lower halves predicted from the upper halves (below the red line)", fontsize=9)
    figure.tight_layout()
    scale = figure.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01)
    scale.set_label("pixel value; predicted: P(pixel = 1)", fontsize=7)
    scale.ax.tick_params(labelsize=6)
    save_figure(figure, figure_path)


def _run_summarize(args: argparse.Namespace) -> int:
    summarize_sop(
        args.evaluations,
        args.output_table,
        args.output_figure,
        args.output_claim,
        ClaimSettings.from_args(args),
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr sop summarize``."""
    parser = command_group(subparsers, "sop").add_parser(
        "summarize", help="table over seeds, figure, claim check"
    )
    parser.add_argument("evaluations", nargs="+", help="JSON files of igr sop evaluate")
    parser.add_argument("--output-table", required=True, type=Path)
    parser.add_argument("--output-figure", required=True, type=Path)
    parser.add_argument("--output-claim", required=True, type=Path)
    add_claim_options(parser)
    parser.set_defaults(func=_run_summarize)
