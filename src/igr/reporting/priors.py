"""Reporting of the priors stage (spec section 2): divergence table and argmax-law figure.

The table has one row per (family, K) prior file: ``KL(uniform || learned argmax law)``, the
total variation ``1/2 sum_k |p_k - 1/K|``, and whether the law is exact or Monte Carlo (with
its number of samples). The figure shows every argmax law against the uniform ``1/K``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from igr.families import families_of_stage
from igr.io import read_json, write_csv_atomic
from igr.reporting.figures import FAMILY_COLORS, family_label, plt, save_figure

FAMILIES: tuple[str, ...] = families_of_stage("priors")


def summarize_priors(prior_paths: list[str], table_path: str, figure_path: str) -> None:
    """Table of the divergences reached and a figure of every argmax law against uniform."""
    import pandas as pd

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


def _run_summarize_priors(args: argparse.Namespace) -> int:
    summarize_priors(args.priors, args.output_table, args.output_figure)
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr summarize-priors``."""
    summarize = subparsers.add_parser(
        "summarize-priors",
        help="table and figure of the learned priors' argmax laws",
    )
    summarize.add_argument("priors", nargs="+", help="prior JSON files (igr learn-prior)")
    summarize.add_argument("--output-table", required=True, type=Path)
    summarize.add_argument("--output-figure", required=True, type=Path)
    summarize.set_defaults(func=_run_summarize_priors)
