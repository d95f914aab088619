"""Reporting of the gradient-estimator study: figure and claim of the toy table.

Reads the table of ``igr gradients toy`` (:mod:`igr.experiments.gradient_study`: one row per
objective, K, family, estimator and temperature, with ``temperature_kind`` ``grid`` or
``calibrated``) and writes

- a figure with one column of panels per K and two rows per objective: the relative bias
  ``||m - g|| / ||g||`` and the relative variance ``tr S / ||g||^2`` of one draw against the
  temperature (log scales), one line per family and estimator over the grid, a star at each
  calibrated temperature, REINFORCE (no temperature) as a horizontal line;
- the claim "IGR has lower-variance gradients than GS at matched temperature", judged for
  each IGR family against GS's pathwise (relaxed) estimator on the statistic
  ``relative_variance`` (the families' gradients live in different parameters: K logits
  against 2(K-1) locs and scales, so the raw trace is not comparable; its ratio to the
  squared exact gradient is, and it does not change when f is rescaled). GS's parameter
  point carries IGR-I's argmax law, so GS and IGR-I are compared on the same categorical
  law; IGR-Planar and IGR-SB have their own points (their laws differ), which the claim says.

Two comparisons, each one item of the claim, the verdict in the one vocabulary
(:mod:`igr.reporting.verdicts`):

- **calibrated temperature**: each family at its own calibrated tau for that K (the
  temperatures stage), one cell per (objective, K);
- **equal temperature**: both at each tau of the shared grid, one cell per (objective, K, tau).

A cell's difference is ``d = rv_GS - rv_IGR`` (> 0 favours the claim) with margin
``2 sqrt(se_GS^2 + se_IGR^2)`` (jackknife standard errors). The item is supported when every
cell is, contradicted when every cell is, inconclusive otherwise (mixed, or within the
margin), and not assessable when a family, a calibration or a finite value is missing, or
``||g|| = 0``. With fewer than :data:`MIN_DRAWS` draws per row (the issue's minimum) the item
is inconclusive whatever it shows. Every item states the run's scale.

With the records of ``igr gradients vae`` (``--vae-runs``, gathered into the CSV
``--vae-table``) the claim has one more item per
dataset, architecture and IGR family of the VAE grid: the relative variance of the encoder
gradient of the trained runs, GS against the family, judged over seeds like the VAE claims
(:func:`vae_items`).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from igr.io import read_json, write_text_atomic
from igr.families import family_label
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

CLAIM = "IGR has lower-variance gradients than GS at matched temperature"
#: Fewer draws per row make every item inconclusive.
MIN_DRAWS = 10_000
#: The IGR families the claim compares with GS, in report order.
IGR_FAMILIES = ("igr_i", "igr_planar", "igr_sb")
#: Line style of each estimator in the figure.
ESTIMATOR_STYLES = {"relaxed": "-", "st_gs": "--", "st": ":", "reinmax": "-."}
ESTIMATOR_LABELS = {
    "relaxed": "relaxed",
    "st_gs": "ST-GS",
    "st": "ST",
    "reinmax": "ReinMax",
    "reinforce": "REINFORCE",
}
#: Smallest value a panel shows, relative to its largest: ST's gradient of a linear f does not
#: depend on the draw (variance 0 up to rounding, bias 0 at tau 1), and is drawn at the floor.
DISPLAY_RANGE = 1e-8
#: Statistics of the figure's rows: column, axis label.
FIGURE_ROWS = (("relative_bias", "bias / ||g||"), ("relative_variance", "variance / ||g||^2"))


def _with_relative_bias(table):
    table = table.copy()
    table["relative_bias"] = table["bias"] / table["exact_norm"]
    return table


def plot_toy_study(table, figure_path: str | Path) -> None:
    """Relative bias and variance against tau: a column per K, two rows per objective."""
    # matplotlib only here: `igr gradients toy` and `igr gradients vae` register through this
    # module and should not pay for it (igr.cli.modules_for)
    from igr.reporting.figures import FAMILY_COLORS, plt, save_figure

    table = _with_relative_bias(table)
    objectives = list(dict.fromkeys(table["objective"]))
    categories = sorted(set(table["num_categories"]))
    rows = [(objective, stat) for objective in objectives for stat in FIGURE_ROWS]
    figure, axes = plt.subplots(
        len(rows), len(categories), figsize=(max(7.0, 4.6 * len(categories)), 2.6 * len(rows)),
        squeeze=False, sharex=True,
    )
    for column, k in enumerate(categories):
        for row, (objective, (statistic, label)) in enumerate(rows):
            axis = axes[row][column]
            part = table[(table["num_categories"] == k) & (table["objective"] == objective)]
            for (family, estimator), lines in part.groupby(["family", "estimator"], sort=False):
                colour = FAMILY_COLORS.get(family)
                name = f"{family_label(family)} {ESTIMATOR_LABELS.get(estimator, estimator)}"
                if estimator == "reinforce":
                    axis.axhline(float(lines[statistic].iloc[0]), color=colour, linewidth=0.8,
                                 alpha=0.6, linestyle=(0, (1, 3)), label=name)
                    continue
                grid = lines[lines["temperature_kind"] == "grid"].sort_values("temperature")
                axis.plot(grid["temperature"], grid[statistic], marker="o", markersize=3,
                          color=colour, linestyle=ESTIMATOR_STYLES.get(estimator, "-"),
                          label=name)
                calibrated = lines[lines["temperature_kind"] == "calibrated"]
                axis.plot(calibrated["temperature"], calibrated[statistic], marker="*",
                          markersize=10, color=colour, linestyle="none")
            axis.set_xscale("log")
            axis.set_yscale("log")
            values = part[statistic].to_numpy(dtype=float)
            values = values[np.isfinite(values) & (values > 0)]
            if len(values):  # exact zeros (ST on linear f at tau 1) sit below the axis
                axis.set_ylim(bottom=max(values.min(), values.max() * DISPLAY_RANGE) / 2)
            axis.grid(alpha=0.3, which="both")
            axis.set_title(f"{objective} f, K = {k}", fontsize=9)
            axis.set_ylabel(label)
            if row == len(rows) - 1:
                axis.set_xlabel("temperature tau (star: calibrated tau)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8,
                  bbox_to_anchor=(0.5, -0.02 - 0.01 * len(labels) / 4))
    num_draws = int(table["num_draws"].max())
    figure.suptitle(f"Single-sample gradient estimators on E[f(b)] ({num_draws} draws per point)",
                    fontsize=10)
    figure.tight_layout(rect=(0, 0.06, 1, 0.97))
    save_figure(figure, figure_path)


def _relaxed(table, family: str):
    return table[(table["family"] == family) & (table["estimator"] == "relaxed")]


def _cells(gs, igr, kind: str) -> list[tuple[str, float, float, float, float]]:
    """``[(where, rv_GS, se_GS, rv_IGR, se_IGR, relative bias GS, IGR)]`` of one comparison."""
    cells = []
    for (objective, k), igr_rows in igr.groupby(["objective", "num_categories"], sort=True):
        gs_rows = gs[(gs["objective"] == objective) & (gs["num_categories"] == k)]
        if kind == "calibrated":
            pairs = [
                (f"{objective} K={k} (tau GS {a.temperature:.3g}, IGR {b.temperature:.3g})", a, b)
                for a in gs_rows[gs_rows["temperature_kind"] == "calibrated"].itertuples()
                for b in igr_rows[igr_rows["temperature_kind"] == "calibrated"].itertuples()
            ]
        else:
            grid_gs = gs_rows[gs_rows["temperature_kind"] == "grid"].set_index("temperature")
            grid_igr = igr_rows[igr_rows["temperature_kind"] == "grid"].set_index("temperature")
            pairs = [
                (f"{objective} K={k} tau={tau:g}", grid_gs.loc[tau], grid_igr.loc[tau])
                for tau in sorted(set(grid_gs.index) & set(grid_igr.index))
            ]
        for where, a, b in pairs:
            cells.append((where, float(a.relative_variance), float(a.relative_variance_se),
                          float(b.relative_variance), float(b.relative_variance_se),
                          float(a.bias / a.exact_norm), float(b.bias / b.exact_norm)))
    return cells


def comparison_verdict(cells, num_draws: int, family: str, kind: str) -> Verdict:
    """The verdict of one item from its cells (module docstring)."""
    label = family_label(family)
    if not cells:
        missing = "calibrated temperatures of both families" if kind == "calibrated" else (
            "a temperature of the grid shared by both families")
        return Verdict(NOT_ASSESSABLE, f"the table has no {missing} (relaxed estimator)")
    values = np.array([cell[1:5] for cell in cells], dtype=float)
    if not np.isfinite(values).all():
        return Verdict(NOT_ASSESSABLE, "non-finite relative variances (||g|| = 0?)")
    differences = values[:, 0] - values[:, 2]
    margins = 2.0 * np.sqrt(values[:, 1] ** 2 + values[:, 3] ** 2)
    lower = int(np.sum(differences > margins))
    higher = int(np.sum(differences < -margins))
    ratios = values[:, 2] / values[:, 0]
    observed = (
        f"{label}'s relative variance is lower than GS's in {lower} of {len(cells)} cells and "
        f"higher in {higher} (beyond 2 standard errors); ratio {label} / GS "
        f"{np.min(ratios):.3g} to {np.max(ratios):.3g}"
    )
    if num_draws < MIN_DRAWS:
        return Verdict(INCONCLUSIVE, f"{observed}; {num_draws} draws per row, at least "
                       f"{MIN_DRAWS} needed to judge")
    if lower == len(cells):
        return Verdict(SUPPORTED, observed)
    if higher == len(cells):
        return Verdict(CONTRADICTED, observed)
    return Verdict(INCONCLUSIVE, f"{observed}: mixed or within the margin")


def gradient_claim(table, settings: ClaimSettings | None = None, vae_table=None) -> str:
    """Markdown statement of :data:`CLAIM` (module docstring), with the cells listed; with
    ``vae_table`` (``igr gradients vae``) also the items of :func:`vae_items`."""
    settings = settings or ClaimSettings()
    lines = [f"# Claim: {CLAIM}", ""]
    gs = _relaxed(table, "gs")
    num_draws = int(table["num_draws"].min()) if len(table) else 0
    for family in IGR_FAMILIES:
        igr = _relaxed(table, family)
        if gs.empty or igr.empty:
            for kind in ("calibrated", "equal"):
                verdict = Verdict(NOT_ASSESSABLE, f"the run needs both GS and {family_label(family)}")
                lines.append(f"- {family_label(family)} vs GS, {kind} temperature: "
                             f"{verdict.markdown()}")
            continue
        for kind in ("calibrated", "equal"):
            cells = _cells(gs, igr, kind)
            verdict = comparison_verdict(cells, num_draws, family, kind)
            lines.append(f"- {family_label(family)} vs GS, {kind} temperature: {verdict.markdown()}")
            for where, rv_gs, se_gs, rv_igr, se_igr, rb_gs, rb_igr in cells:
                lines.append(
                    f"  - {where}: relative variance GS {rv_gs:.4g} +- {se_gs:.2g}, "
                    f"{family_label(family)} {rv_igr:.4g} +- {se_igr:.2g}; relative bias "
                    f"GS {rb_gs:.3g}, {family_label(family)} {rb_igr:.3g}"
                )
    if vae_table is not None:
        lines += vae_items(vae_table, settings)
    facts = {
        "K": ", ".join(map(str, sorted(set(table["num_categories"])))) if len(table) else "none",
        "objectives": ", ".join(dict.fromkeys(table["objective"])) if len(table) else "none",
        "draws per row": num_draws,
    }
    lines += [
        "",
        scale_statement(facts, settings),
        "",
        "Statistic: the relative variance tr S / ||g||^2 of one single-sample gradient of "
        "E[f(b)] (the pathwise estimator of each family, at its relaxed psi), with jackknife "
        "standard errors; a cell counts when the difference exceeds 2 standard errors. "
        "'calibrated': each family at its own calibrated temperature for that K (the "
        "temperatures stage), so the two taus differ; 'equal': both at the same tau of the "
        "shared grid, where the comparison depends on how a family's tau maps to its "
        "concentration. GS's parameter point has IGR-I's argmax law (same law, same f); "
        "IGR-Planar and IGR-SB are compared at their own points. The relaxed estimators are "
        "biased for the discrete objective (see bias in the table): lower variance alone "
        "is not a better gradient.",
    ]
    if vae_table is not None:
        lines += [
            "",
            "Trained VAEs: the relative variance of the encoder-parameter gradient of each "
            "run's training objective at its final checkpoint (igr gradients vae: repeated "
            "single-sample draws on fixed training batches), GS against each IGR family at "
            "the temperatures the runs trained with; the seeds decide as in the VAE claims.",
        ]
    return "\n".join(lines) + "\n"


def vae_items(vae_table, settings: ClaimSettings) -> list[str]:
    """Claim items on the trained VAEs (``igr gradients vae``): for each dataset and
    architecture and each IGR family, the mean relative variance of the encoder gradient over
    seeds, GS's minus the family's (> 0 favours the claim), margin the two seed spreads
    (``2 sqrt(se_GS^2 + se_IGR^2)``, se the standard error over seeds, or over batches with
    one seed); fewer than ``claims.min_seeds`` seeds abstain, a collapsed posterior (final
    KL per variable below ``claims.collapse_kl_per_variable``) makes it not assessable."""
    from igr.reporting.verdicts import compare

    lines = []
    for (dataset, architecture), runs in vae_table.groupby(["dataset", "architecture"], sort=True):
        gs = runs[runs["family"] == "gs"]
        for family in IGR_FAMILIES:
            igr = runs[runs["family"] == family]
            if igr.empty:
                continue
            subject = f"{family_label(family)} vs GS, trained VAEs ({dataset}, {architecture})"
            both = pd.concat([gs, igr], ignore_index=True)
            collapsed = both[both["kl_per_variable"] < settings.collapse_kl_per_variable]
            if gs.empty:
                verdict = Verdict(NOT_ASSESSABLE, "the grid has no GS run to compare with")
            elif len(collapsed):
                names = ", ".join(f"{family_label(r.family)} seed {r.seed}"
                                  for r in collapsed.itertuples())
                verdict = Verdict(NOT_ASSESSABLE, f"posterior collapse ({names}: final KL per "
                                  f"variable < {settings.collapse_kl_per_variable:g})")
            else:
                mean_gs, se_gs = _seed_mean(gs)
                mean_igr, se_igr = _seed_mean(igr)
                verdict = compare(mean_gs - mean_igr, 2.0 * math.hypot(se_gs, se_igr),
                                  min(len(gs), len(igr)), settings,
                                  "relative variance of the encoder gradient (GS - IGR)")
            lines.append(f"- {subject}: {verdict.markdown()}")
            for row in both.itertuples():
                lines.append(
                    f"  - {family_label(row.family)} seed {row.seed} (tau {row.temperature:.3g}, "
                    f"{row.objective} KL): relative variance {row.relative_variance:.4g} +- "
                    f"{row.relative_variance_se:.2g}, SNR {row.snr:.3g}, KL per variable "
                    f"{row.kl_per_variable:.3g}"
                )
    return lines


def _seed_mean(runs) -> tuple[float, float]:
    """Mean relative variance over seeds and its standard error (over batches for one seed)."""
    values = runs["relative_variance"].to_numpy(dtype=float)
    if len(values) > 1:
        return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))
    return float(values[0]), float(runs["relative_variance_se"].iloc[0])


def _run_summarize(args: argparse.Namespace) -> int:
    from igr.errors import InputError
    from igr.experiments.gradient_study import COLUMNS

    table = pd.read_csv(args.table, keep_default_na=True)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{args.table}: not a table of igr gradients toy (no {', '.join(missing)})")
    if args.record is not None:
        record = read_json(args.record)
        if record.get("rows") != len(table):
            raise InputError(f"{args.record}: records {record.get('rows')} rows, "
                             f"{args.table} has {len(table)}")
    vae_table = None
    if bool(args.vae_runs) != (args.vae_table is not None):
        raise InputError("--vae-runs and --vae-table: give both or neither")
    if args.vae_runs:
        from igr.experiments.gradient_vae import read_rows

        vae_table = read_rows(args.vae_runs)
    plot_toy_study(table, args.figure)
    if vae_table is not None:
        from igr.io import write_csv_atomic

        write_csv_atomic(args.vae_table, vae_table)
    write_text_atomic(
        args.claims, gradient_claim(table, ClaimSettings.from_args(args), vae_table)
    )
    print(f"gradients summarize: -> {args.figure}, {args.claims}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr gradients summarize``."""
    from igr.commands import command_group

    parser = command_group(subparsers, "gradients").add_parser(
        "summarize", help="figure and claim of the toy gradient study's table"
    )
    parser.add_argument("table", type=Path, help="CSV written by igr gradients toy")
    parser.add_argument("--record", type=Path, default=None,
                        help="its JSON record (checked against the table)")
    parser.add_argument("--vae-runs", type=Path, nargs="+", default=[], metavar="JSON",
                        help="records of igr gradients vae (one per trained VAE): gathered "
                        "into --vae-table, and the claim gets the trained-VAE items")
    parser.add_argument("--vae-table", type=Path, default=None,
                        help="CSV to write: one row per record of --vae-runs")
    parser.add_argument("--figure", required=True, type=Path,
                        help="PNG: relative bias and variance against temperature")
    parser.add_argument("--claims", required=True, type=Path, help="Markdown claim statement")
    add_claim_options(parser)
    parser.set_defaults(func=_run_summarize)
