"""Report of the SOP stage: table over seeds, figure of predicted lower halves, claim check.

Table: per (dataset, family), the test loss ``-log (1/M) sum_m p(x_low | z_m)`` with M hard
samples, mean and sample standard deviation (ddof = 1; 0 for one seed) over seeds, the
per-seed values, the one-relaxed-sample test loss and the final training loss (means).

Claim (spec section 8): "IGR has lower SOP loss" than GS. This run supports it ("yes") when
every IGR family in the run has a lower mean test loss than GS, "partly" when some do,
"no" when none does; the evidence names each difference and whether it exceeds the larger
of the two standard deviations over seeds (a difference within that spread is noted as not
clear-cut).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from igr.commands import command_group
from igr.families import families_of_stage
from igr.io import read_json, write_csv_atomic

CLAIM = "IGR has lower SOP loss than GS"
FAMILY_ORDER = families_of_stage("sop")


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


def claim_check(rows: Sequence[dict]) -> dict:
    """Whether this run supports :data:`CLAIM` (module docstring)."""
    gs = [row for row in rows if row["family"] == "gs"]
    igr = [row for row in rows if row["family"] != "gs"]
    if not gs or not igr:
        return {
            "claim": CLAIM,
            "supported": "not tested",
            "evidence": "needs GS and an IGR family",
        }
    reference = gs[0]
    parts, lower = [], 0
    for row in igr:
        difference = row["test_loss_mean"] - reference["test_loss_mean"]
        spread = max(row["test_loss_sd"], reference["test_loss_sd"])
        lower += difference < 0
        if min(row["num_seeds"], reference["num_seeds"]) < 2:
            clear = "one seed: spread unknown"
        else:
            clear = "clear" if abs(difference) > spread else "within the spread over seeds"
        parts.append(
            f"{row['family']} {row['test_loss_mean']:.3f} +- {row['test_loss_sd']:.3f} "
            f"({difference:+.3f}, {clear})"
        )
    supported = "yes" if lower == len(igr) else ("partly" if lower else "no")
    evidence = (
        f"{reference['dataset']}, test loss with {reference['num_hard_samples']} hard samples, "
        f"mean +- sd over {reference['num_seeds']} seeds: GS {reference['test_loss_mean']:.3f} "
        f"+- {reference['test_loss_sd']:.3f}; " + "; ".join(parts)
    )
    return {"claim": CLAIM, "supported": supported, "evidence": evidence}


def summarize_sop(
    evaluation_paths: Sequence[str], table_path: str, figure_path: str, claim_path: str
) -> None:
    """Write the table and claim (CSV) and the figure of predicted lower halves."""
    import pandas as pd

    from igr.reporting.figures import family_label, plt, save_figure

    evaluations = [read_json(path) for path in evaluation_paths]
    rows = sop_table_rows(evaluations)
    write_csv_atomic(table_path, pd.DataFrame(rows))
    write_csv_atomic(claim_path, pd.DataFrame([claim_check(rows)]))

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
            axis.imshow(image, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
            axis.axhline(height / 2 - 0.5, color="tab:red", linewidth=0.8)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(title, fontsize=8)
    figure.suptitle("Lower halves predicted from the upper halves (below the red line)", fontsize=9)
    figure.tight_layout()
    save_figure(figure, figure_path)


def _run_summarize(args: argparse.Namespace) -> int:
    summarize_sop(args.evaluations, args.output_table, args.output_figure, args.output_claim)
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
    parser.set_defaults(func=_run_summarize)
