"""Aggregation of the VAE stage (spec section 5): main table, figures, claim statements.

Inputs: the evaluation records (``igr vae evaluate``) and training histories of every
(dataset, architecture, family, seed). Outputs:

- main table (CSV, Markdown, LaTeX): per dataset x architecture (rows) and family
  (columns), the discrete log-likelihood bound as ``mean +- sd`` over seeds (sd with
  ddof = 1; 0 for one seed), the best (highest) mean per row marked (bold in LaTeX and
  Markdown, ``best`` column in the CSV, which is in long form with the test ELBO too), and
  the KL each family's objective uses (:data:`igr.families.KLS`: the relaxed KL of GS and
  the IGR families, the exact categorical KL to the uniform prior of the baselines ST-GS and
  ReinMax), stated under the Markdown and LaTeX tables and in the CSV's ``kl`` column;
- diagnostics (CSV, Markdown, figure): per family the temperature and where it came from
  (calibrated or given), the KL, the relaxation gap (0 for the one-hot baselines), the mean
  KL per variable, the median distance of posterior samples to a vertex (0 for the
  baselines), the categories used, and a ``status``: ``ok`` or why the runs are degenerate
  (:mod:`igr.reporting.verdicts`);
- figures: test ELBO against epoch (mean over seeds, shaded min-max), distance of posterior
  samples to the nearest vertex (boxplots per family), vanished-gradient share (bars), the
  diagnostics (bars);
- truncation (in the CSV and the claims file): for truncated IGR-SB, the number of categories
  m the truncation selected in the last epoch (the epoch's mean over steps; mean, min and max
  over seeds) and the share of steps whose quantile wanted more than K_max - 1 sticks;
- claims (Markdown): for each dataset x architecture, a verdict of the one vocabulary
  (:mod:`igr.reporting.verdicts`) on the paper's claim "IGR beats GS": the best IGR family
  (:attr:`igr.families.Family.igr`; the baselines ST-GS and ReinMax take no part) whose runs
  are not degenerate against GS, on the mean discrete bound; supported or
  contradicted when the difference exceeds the margin with enough seeds, inconclusive
  otherwise, not assessable when GS or every IGR family is degenerate or missing. The
  margin is the larger of the two seed standard deviations and twice the standard error of
  the difference of the test-set means (``sqrt(se_gs^2 + se_igr^2)``, se = sd over test
  examples / sqrt(N), pooled over seeds). Each claim states the run's scale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from igr.commands import command_group
from igr.families import FAMILIES, KLS, families_of_stage
from igr.reporting.verdicts import (
    NOT_ASSESSABLE,
    ClaimSettings,
    Verdict,
    add_claim_options,
    compare,
    degenerate_reason,
    scale_statement,
)
from igr.io import read_json, write_csv_atomic, write_text_atomic

FAMILY_ORDER = families_of_stage("vae")
LABELS = {name: FAMILIES[name].label for name in FAMILY_ORDER}
#: The side of the claim "IGR beats GS" against GS (registry order).
IGR_FAMILIES = tuple(name for name in FAMILY_ORDER if FAMILIES[name].igr)
#: Families in the table that the claim leaves out (the straight-through baselines).
BASELINES = tuple(name for name in FAMILY_ORDER if name != "gs" and name not in IGR_FAMILIES)


def load_records(paths):
    import pandas as pd

    rows = []
    for path in paths:
        record = read_json(path)
        s = record["settings"]
        rows.append(
            {
                "dataset": s["dataset"],
                "architecture": s["architecture"],
                "family": s["family"],
                "seed": s["seed"],
                "kl": record.get("objective", {}).get("kl", _registry_kl(s["family"])),
                "discrete_bound": record["discrete_bound"],
                "test_elbo": record["test_elbo"],
                "vanished_gradient_share": record["vanished_gradient_share"],
                "vertex_distance_median": record["vertex_distance_median"],
                "distances": record["vertex_distances_sample"],
                "discrete_bound_q": record["discrete_bound_q"],
                # Standard error of the test-set mean bound (spread over test examples).
                "discrete_bound_se": record["discrete_bound_sd"] / np.sqrt(record["test_examples"]),
                "temperature": s.get("temperature", float("nan")),
                "temperature_source": record.get("temperature_source", {}).get("kind", "given"),
                "epochs": int(record.get("final_train", {}).get("epoch", 0)),
                "kl_warmup_steps": int(record.get("kl_warmup_steps", 0)),
                "relaxation_gap": record.get("relaxation_gap", float("nan")),
                "kl_per_variable": record.get("kl_per_variable", float("nan")),
                "categories_used_test": record.get("categories_used", float("nan")),
            }
        )
    return pd.DataFrame(rows)


def _registry_kl(family: str) -> str:
    """The KL kind of a family (records written before ``objective`` existed)."""
    return FAMILIES[family].kl if family in FAMILIES else "relaxed"


def main_table(records):
    """Long table: one row per dataset x architecture x family, mean/sd over seeds."""
    grouped = records.groupby(["dataset", "architecture", "family"], sort=True)
    table = grouped.agg(
        seeds=("seed", "count"),
        discrete_bound_mean=("discrete_bound", "mean"),
        discrete_bound_sd=(
            "discrete_bound",
            lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
        ),
        test_elbo_mean=("test_elbo", "mean"),
        test_elbo_sd=("test_elbo", lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0),
        vanished_gradient_share=("vanished_gradient_share", "mean"),
        discrete_bound_se=(
            "discrete_bound_se",
            lambda v: float(np.sqrt(np.mean(np.square(v)) / len(v))),
        ),
        discrete_bound_q=("discrete_bound_q", "first"),
        kl=("kl", "first"),
        temperature=("temperature", "mean"),
        temperature_source=("temperature_source", "first"),
        epochs=("epochs", "min"),
        kl_warmup_steps=("kl_warmup_steps", "max"),
        relaxation_gap_mean=("relaxation_gap", "mean"),
        kl_per_variable_mean=("kl_per_variable", "mean"),
        vertex_distance_median=("vertex_distance_median", "mean"),
        categories_used_test=("categories_used_test", "mean"),
    ).reset_index()
    best = table.groupby(["dataset", "architecture"])["discrete_bound_mean"].transform("max")
    table["best"] = table["discrete_bound_mean"] == best
    order = {f: i for i, f in enumerate(FAMILY_ORDER)}
    table["_order"] = table["family"].map(order)
    return table.sort_values(["dataset", "architecture", "_order"]).drop(columns="_order")


def _cells(table, bold):
    rows = []
    families = [f for f in FAMILY_ORDER if f in set(table["family"])]
    for (dataset, architecture), group in table.groupby(["dataset", "architecture"], sort=True):
        cells = [dataset, architecture]
        by_family = {r.family: r for r in group.itertuples()}
        for family in families:
            r = by_family.get(family)
            if r is None:
                cells.append("")
                continue
            text = f"{r.discrete_bound_mean:.2f} +- {r.discrete_bound_sd:.2f}"
            cells.append(bold(text) if r.best else text)
        rows.append(cells)
    return ["dataset", "architecture"] + [LABELS[f] for f in families], rows


def kl_note(table) -> str:
    """``KL of the objective: ...``: each KL kind (:data:`igr.families.KLS`) with the
    families of the table that use it; empty for an empty table."""
    present = [f for f in FAMILY_ORDER if f in set(table["family"])]
    kinds = dict(zip(table["family"], table["kl"])) if "kl" in table else {}
    parts = []
    for kind, words in KLS.items():
        names = [LABELS[f] for f in present if kinds.get(f, _registry_kl(f)) == kind]
        if names:
            parts.append(f"{', '.join(names)}: {words}")
    return ("KL of the objective: " + "; ".join(parts) + ".") if parts else ""


def markdown_table(table) -> str:
    header, rows = _cells(table, lambda t: f"**{t}**")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    note = kl_note(table)
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


def latex_table(table) -> str:
    header, rows = _cells(table, lambda t: "\\textbf{" + t + "}")
    lines = [
        "\\begin{tabular}{ll" + "r" * (len(header) - 2) + "}",
        "\\toprule",
        " & ".join(header) + " \\\\",
        "\\midrule",
    ]
    lines += [
        " & ".join(c.replace("+-", "$\\pm$").replace("_", "\\_") for c in r) + " \\\\" for r in rows
    ]
    lines.append("\\bottomrule")
    note = kl_note(table).replace("_", "\\_")
    if note:
        lines.append(f"\\multicolumn{{{len(header)}}}{{l}}{{\\footnotesize {note}}} \\\\")
    lines.append("\\end{tabular}")
    return "\n".join(lines) + "\n"


def with_status(table, settings: ClaimSettings):
    """The table with ``status``: ``ok`` or why the family's runs are degenerate."""
    table = table.copy()
    table["status"] = [
        degenerate_reason(r.kl_per_variable_mean, r.relaxation_gap_mean, settings) or "ok"
        for r in table.itertuples()
    ]
    return table


def claim_verdict(group, settings: ClaimSettings) -> Verdict:
    """"IGR beats GS" for one dataset x architecture (module docstring): the best IGR family
    that is not degenerate against GS, on the discrete bound."""
    gs = group[group["family"] == "gs"]
    if gs.empty:
        return Verdict(NOT_ASSESSABLE, "GS is not in this run")
    g = gs.iloc[0]
    if g["status"] != "ok":
        return Verdict(NOT_ASSESSABLE, f"the GS runs are degenerate ({g['status']})")
    igr = group[group["family"].isin(IGR_FAMILIES)]
    if igr.empty:
        return Verdict(NOT_ASSESSABLE, "no IGR family is in this run")
    sound = igr[igr["status"] == "ok"]
    excluded = "; ".join(f"{LABELS[r.family]} left out: {r.status}" for r in igr.itertuples()
                         if r.status != "ok")
    if sound.empty:
        return Verdict(NOT_ASSESSABLE, f"every IGR family is degenerate ({excluded})")
    b = sound.loc[sound["discrete_bound_mean"].idxmax()]
    test_noise = 2.0 * float(np.hypot(g["discrete_bound_se"], b["discrete_bound_se"]))
    margin = max(g["discrete_bound_sd"], b["discrete_bound_sd"], test_noise)
    verdict = compare(
        b["discrete_bound_mean"] - g["discrete_bound_mean"],
        margin,
        int(min(g["seeds"], b["seeds"])),
        settings,
        f"best IGR ({LABELS[b['family']]} {b['discrete_bound_mean']:.2f} +- "
        f"{b['discrete_bound_sd']:.2f}) against GS ({g['discrete_bound_mean']:.2f} +- "
        f"{g['discrete_bound_sd']:.2f}): the discrete bound",
    )
    reason = verdict.reason + (f"; {excluded}" if excluded else "")
    return Verdict(verdict.verdict, reason)


def claims(table, settings: ClaimSettings | None = None) -> str:
    """One line per dataset x architecture on "IGR beats GS" (module docstring)."""
    settings = settings or ClaimSettings()
    table = with_status(table, settings)
    lines = [
        "# Claim: IGR beats GS (test log-likelihood bound, mean +- sd over seeds)",
        "",
    ]
    for (dataset, architecture), group in table.groupby(["dataset", "architecture"], sort=True):
        verdict = claim_verdict(group, settings)
        lines.append(f"- {dataset}, {architecture}: {verdict.markdown()}")
        facts = {
            "dataset": dataset,
            "epochs": int(group["epochs"].min()),
            "seeds per family": int(group["seeds"].min()),
        }
        warmup = int(group["kl_warmup_steps"].max()) if "kl_warmup_steps" in group else 0
        if warmup:
            facts["KL warm-up steps (not the paper's objective)"] = warmup
        lines.append(f"  - {scale_statement(facts, settings)}")
    lines += [
        "",
        "Margin: the larger of the two seed standard deviations and twice the standard error",
        "of the difference of the test-set means. A family whose runs collapsed or whose",
        "relaxation gap is too large is left out of the comparison (table: status).",
    ]
    baselines = [LABELS[f] for f in BASELINES if f in set(table["family"])]
    if baselines:
        lines.append(
            f"The baselines {', '.join(baselines)} (one-hot codes, categorical KL) are in the "
            "table but take no part in this claim."
        )
    return "\n".join(lines) + "\n"


def diagnostics_markdown(table, settings: ClaimSettings | None = None) -> str:
    """Per family: temperature and source, relaxed ELBO, bound, and the diagnostics."""
    table = with_status(table, settings or ClaimSettings())
    header = ["dataset", "architecture", "family", "tau", "tau from", "KL", "epochs", "seeds",
              "test ELBO", "discrete bound", "relaxation gap", "KL / variable",
              "median vertex distance", "categories used", "status"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in table.itertuples():
        lines.append("| " + " | ".join([
            r.dataset, r.architecture, LABELS[r.family], f"{r.temperature:.4g}",
            r.temperature_source, r.kl, str(r.epochs), str(r.seeds), f"{r.test_elbo_mean:.2f}",
            f"{r.discrete_bound_mean:.2f}", f"{r.relaxation_gap_mean:.2f}",
            f"{r.kl_per_variable_mean:.3g}", f"{r.vertex_distance_median:.3f}",
            f"{r.categories_used_test:.1f}", r.status,
        ]) + " |")
    return "\n".join(lines) + "\n"


def truncation_summary(histories):
    """Per dataset x architecture x truncated family: categories used in the last epoch."""
    import pandas as pd

    rows = []
    for history in histories:
        frame = history["frame"]
        if "categories_used" not in frame.columns or frame.empty:
            continue
        last = frame.iloc[-1]
        rows.append(
            {
                "dataset": history["dataset"],
                "architecture": history["architecture"],
                "family": history["family"],
                "categories_used": float(last["categories_used"]),
                "cap_hit": float(last.get("cap_hit", float("nan"))),
            }
        )
    columns = ["dataset", "architecture", "family"]
    if not rows:
        return pd.DataFrame(
            columns=[
                *columns,
                "categories_used_mean",
                "categories_used_min",
                "categories_used_max",
                "cap_hit_share",
            ]
        )
    grouped = pd.DataFrame(rows).groupby(columns, sort=True)
    return grouped.agg(
        categories_used_mean=("categories_used", "mean"),
        categories_used_min=("categories_used", "min"),
        categories_used_max=("categories_used", "max"),
        cap_hit_share=("cap_hit", "mean"),
    ).reset_index()


def truncation_text(truncation) -> str:
    """Markdown lines on the categories the truncation selected (empty without such runs)."""
    if truncation.empty:
        return ""
    lines = ["", "## Truncated IGR-SB: categories selected (last epoch)", ""]
    for r in truncation.itertuples():
        lines.append(
            f"- {r.dataset}, {r.architecture}: m = {r.categories_used_mean:.1f} "
            f"(seeds: {r.categories_used_min:.1f} to {r.categories_used_max:.1f}); "
            f"the cap K_max was hit in {100 * r.cap_hit_share:.0f}% of the steps"
        )
    return "\n".join(lines) + "\n"


def elbo_figure(histories, path) -> None:
    from igr.reporting.figures import plt, save_figure

    panels = sorted({(h["dataset"], h["architecture"]) for h in histories})
    baselines = [LABELS[f] for f in BASELINES if f in {h["family"] for h in histories}]
    ylabel = "test relaxed ELBO"
    if baselines:  # their decoder reads one-hot codes: the discrete ELBO
        ylabel = f"test ELBO (relaxed;\none-hot codes for {', '.join(baselines)})"
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), squeeze=False)
    for axis, (dataset, architecture) in zip(axes[0], panels):
        for family in FAMILY_ORDER:
            runs = [
                h["frame"]
                for h in histories
                if (h["dataset"], h["architecture"], h["family"]) == (dataset, architecture, family)
            ]
            runs = [r.dropna(subset=["test_elbo"]) for r in runs if "test_elbo" in r]
            if not runs:
                continue
            epochs = runs[0]["epoch"].to_numpy()
            values = np.stack([r["test_elbo"].to_numpy()[: len(epochs)] for r in runs])
            color = _palette()[LABELS[family]]
            axis.plot(epochs, values.mean(0), label=LABELS[family], color=color)
            axis.fill_between(epochs, values.min(0), values.max(0), alpha=0.2, color=color)
        axis.set_title(f"{dataset}, {architecture}")
        axis.set_xlabel("epoch")
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


def _palette():
    from igr.reporting.figures import FAMILY_COLORS

    return {LABELS[f]: FAMILY_COLORS.get(f, "#8172b3") for f in FAMILY_ORDER}


def _by_panel(frame):
    """A copy with ``panel`` ("dataset, architecture") and the families' display labels."""
    frame = frame.copy()
    frame["panel"] = frame["dataset"] + ", " + frame["architecture"]
    frame["family"] = frame["family"].map(LABELS)
    return frame


def distance_figure(records, path) -> None:
    import seaborn as sns

    from igr.reporting.figures import plt, save_figure

    long = _by_panel(records[["dataset", "architecture", "family", "distances"]].explode("distances"))
    long["distance"] = long["distances"].astype(float)
    figure, axis = plt.subplots(figsize=(7, 3.6))
    sns.boxplot(
        data=long, x="panel", y="distance", hue="family", ax=axis, fliersize=1, palette=_palette()
    )
    axis.set_xlabel("")
    axis.set_ylabel("distance of posterior sample\nto nearest vertex")
    figure.tight_layout()
    save_figure(figure, path)


def vanished_figure(table, path) -> None:
    import seaborn as sns

    from igr.reporting.figures import plt, save_figure

    frame = _by_panel(table)
    figure, axis = plt.subplots(figsize=(7, 3.2))
    sns.barplot(
        data=frame,
        x="panel",
        y="vanished_gradient_share",
        hue="family",
        ax=axis,
        palette=_palette(),
    )
    axis.set_xlabel("")
    axis.set_ylabel("share of test examples with\n||d psi / d params|| <= 1e-10")
    top = float(frame["vanished_gradient_share"].max()) if len(frame) else 0.0
    axis.set_ylim(0.0, max(1.05 * top, 0.05) if top > 0 else 1.0)
    if not top > 0:  # an empty comparison says so instead of drawing an empty axis
        axis.text(0.5, 0.5, "no vanished gradients: the share is 0 for every family\n"
                  "(no test example has ||d psi / d params|| <= 1e-10)",
                  transform=axis.transAxes, ha="center", va="center", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path)


def diagnostics_figure(table, path) -> None:
    """Relaxation gap, KL per variable and median vertex distance per family (bars)."""
    import seaborn as sns

    from igr.reporting.figures import plt, save_figure

    frame = _by_panel(table)
    panels = (
        ("relaxation_gap_mean", "relaxation gap (nats)\nlog p(x|psi) - log p(x|one-hot)"),
        ("kl_per_variable_mean",
         "KL per variable (nats) of each family's\nobjective (relaxed or categorical)"),
        ("vertex_distance_median", "median distance of\nposterior samples to a vertex"),
    )
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for axis, (column, label) in zip(axes, panels):
        sns.barplot(data=frame, x="panel", y=column, hue="family", ax=axis, palette=_palette())
        axis.set_xlabel("")
        axis.set_ylabel(label)
        if axis is not axes[0] and axis.get_legend() is not None:
            axis.get_legend().remove()
    figure.tight_layout()
    save_figure(figure, path)


def summarize(args: argparse.Namespace) -> int:
    import pandas as pd

    records = load_records(args.evaluations)
    histories = []
    for path in args.histories:
        frame = pd.read_csv(path)
        parts = Path(path).parts  # .../{dataset}/{architecture}/{family}/seed{seed}/history.csv
        histories.append(
            {"dataset": parts[-5], "architecture": parts[-4], "family": parts[-3], "frame": frame}
        )
    table = main_table(records)
    truncation = truncation_summary(histories)
    table = table.merge(truncation, on=["dataset", "architecture", "family"], how="left")
    settings = ClaimSettings.from_args(args)
    table = with_status(table, settings)
    write_csv_atomic(args.table_csv, table)
    markdown = markdown_table(table) + "\n## Diagnostics\n\n" + diagnostics_markdown(table, settings)
    write_text_atomic(args.table_markdown, markdown)
    write_text_atomic(args.table_latex, latex_table(table))
    write_text_atomic(args.claims, claims(table, settings) + truncation_text(truncation))
    elbo_figure(histories, args.elbo_figure)
    distance_figure(records, args.distance_figure)
    vanished_figure(table, args.vanished_figure)
    diagnostics_figure(table, args.diagnostics_figure)
    print(markdown_table(table))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr vae summarize``."""
    parser = command_group(subparsers, "vae").add_parser(
        "summarize", help="main table, figures and claims of the VAE stage"
    )
    parser.add_argument("--evaluations", nargs="+", required=True)
    parser.add_argument("--histories", nargs="+", required=True)
    for name in (
        "table-csv",
        "table-markdown",
        "table-latex",
        "claims",
        "elbo-figure",
        "distance-figure",
        "vanished-figure",
        "diagnostics-figure",
    ):
        parser.add_argument(f"--{name}", required=True, type=Path)
    add_claim_options(parser)
    parser.set_defaults(func=summarize)
