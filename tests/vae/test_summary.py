"""Aggregation of the VAE stage: mean +- sd over seeds, best marked, claim statements."""

from __future__ import annotations

import pytest

from igr.io import write_json_atomic
from igr.reporting.vae import (
    claims,
    latex_table,
    load_records,
    main_table,
    markdown_table,
)


def _record(folder, family, seed, bound, sd=1.0, n=10000, kl=1.5, gap=2.0, warmup=0,
            objective=None):
    path = folder / f"{family}_{seed}.json"
    extra = {"objective": objective} if objective else {}
    write_json_atomic(path, {**extra,
        "settings": {"dataset": "mnist", "architecture": "linear", "family": family, "seed": seed,
                     "temperature": 0.2},
        "temperature_source": {"kind": "calibrated"},
        "discrete_bound": bound, "discrete_bound_sd": sd, "test_examples": n,
        "test_elbo": bound - 5, "vanished_gradient_share": 0.0,
        "vertex_distance_median": 0.1, "vertex_distances_sample": [0.1, 0.2],
        "discrete_bound_q": "exact", "kl_per_variable": kl, "relaxation_gap": gap,
        "categories_used": 10.0, "final_train": {"epoch": 40}, "kl_warmup_steps": warmup,
    })
    return path


def test_table_statistics_best_and_claims(tmp_path):
    paths = [
        _record(tmp_path, "gs", 1, -100.0), _record(tmp_path, "gs", 2, -102.0),
        _record(tmp_path, "igr_i", 1, -95.0), _record(tmp_path, "igr_i", 2, -96.0),
    ]
    table = main_table(load_records(paths))
    gs = table[table["family"] == "gs"].iloc[0]
    igr = table[table["family"] == "igr_i"].iloc[0]
    assert gs["discrete_bound_mean"] == pytest.approx(-101.0)
    assert gs["discrete_bound_sd"] == pytest.approx(2**0.5)  # ddof = 1
    assert bool(igr["best"]) and not bool(gs["best"])
    assert "**-95.50 +- 0.71**" in markdown_table(table)
    assert "\\textbf{-95.50 $\\pm$ 0.71}" in latex_table(table)
    assert "mnist, linear: **supported**" in claims(table)
    assert "warm-up" not in claims(table)


def test_a_kl_warmup_is_stated_in_the_scale_of_the_claim(tmp_path):
    table = main_table(load_records([
        _record(tmp_path, "gs", 1, -100.0, warmup=1000), _record(tmp_path, "igr_i", 1, -95.0),
    ]))
    assert "KL warm-up steps (not the paper's objective) 1000" in claims(table)


def test_claim_inconclusive_within_noise_and_contradicted(tmp_path):
    close = main_table(load_records([
        _record(tmp_path, "gs", 1, -100.0, sd=50.0, n=100), _record(tmp_path, "igr_sb", 1, -99.0),
    ]))
    text = claims(close)
    assert "**inconclusive**" in text and "1 seed(s), at least 2 needed" in text
    assert "Scale: dataset mnist, epochs 40, seeds per family 1; smoke scale" in text
    worse = main_table(load_records([
        _record(tmp_path, "gs", 3, -90.0), _record(tmp_path, "igr_planar", 3, -99.0),
    ]))
    assert "**inconclusive**" in claims(worse)  # one seed
    worse_two = main_table(load_records([
        _record(tmp_path, "gs", 3, -90.0), _record(tmp_path, "gs", 4, -90.5),
        _record(tmp_path, "igr_planar", 3, -99.0), _record(tmp_path, "igr_planar", 4, -99.5),
    ]))
    assert "**contradicted**" in claims(worse_two)


def test_a_degenerate_run_is_not_assessable(tmp_path):
    """A collapsed GS posterior (forced: KL per variable 0.001) makes the claim not
    assessable; a degenerate IGR family is left out and named, the others compared."""
    collapsed = main_table(load_records([
        _record(tmp_path, "gs", 1, -100.0, kl=0.001), _record(tmp_path, "gs", 2, -100.0, kl=0.001),
        _record(tmp_path, "igr_i", 1, -95.0), _record(tmp_path, "igr_i", 2, -95.5),
    ]))
    text = claims(collapsed)
    assert "**not assessable**" in text and "posterior collapse" in text
    gap = main_table(load_records([
        _record(tmp_path, "gs", 1, -100.0), _record(tmp_path, "gs", 2, -100.5),
        _record(tmp_path, "igr_sb", 1, -90.0, gap=150.0), _record(tmp_path, "igr_sb", 2, -90.0, gap=150.0),
        _record(tmp_path, "igr_i", 1, -95.0), _record(tmp_path, "igr_i", 2, -95.5),
    ]))
    text = claims(gap)
    assert "**supported**" in text and "IGR-I" in text
    assert "IGR-SB left out: relaxation gap 150 nats > 20" in text


def test_truncation_summary_reports_categories_selected_per_setting():
    import pandas as pd

    from igr.reporting.vae import truncation_summary, truncation_text

    def history(family, used, cap_hit):
        frame = pd.DataFrame({"epoch": [1, 2], "loss": [3.0, 2.0]})
        if used is not None:
            frame["categories_used"] = [40.0, used]
            frame["cap_hit"] = [1.0, cap_hit]
        return {"dataset": "celeba", "architecture": "conv", "family": family, "frame": frame}

    histories = [
        history("igr_sb_trunc", 24.0, 0.0),
        history("igr_sb_trunc", 28.0, 0.5),
        history("gs", None, None),
    ]
    summary = truncation_summary(histories)
    assert len(summary) == 1  # GS has no truncation
    row = summary.iloc[0]
    assert row["categories_used_mean"] == pytest.approx(26.0)  # the last epochs, not the first
    assert (row["categories_used_min"], row["categories_used_max"]) == (24.0, 28.0)
    assert row["cap_hit_share"] == pytest.approx(0.25)
    text = truncation_text(summary)
    assert "celeba, conv: m = 26.0 (seeds: 24.0 to 28.0)" in text and "25% of the steps" in text
    assert truncation_text(truncation_summary(histories[2:])) == ""


def test_vanished_figure_says_in_words_when_every_share_is_zero(tmp_path, monkeypatch):
    """All shares 0: the axis runs from 0 and a sentence says there is nothing to compare."""
    import igr.reporting.figures as figures
    from igr.reporting.vae import vanished_figure

    saved = {}
    monkeypatch.setattr(figures, "save_figure", lambda figure, path: saved.update(figure=figure))
    paths = [_record(tmp_path, "gs", 1, -100.0), _record(tmp_path, "igr_i", 1, -95.0)]
    vanished_figure(main_table(load_records(paths)), tmp_path / "vanished.png")
    (axis,) = saved["figure"].axes
    assert axis.get_ylim()[0] == 0.0 and axis.get_ylim()[1] > 0.0
    texts = [text.get_text() for text in axis.texts]
    assert any("no vanished gradients" in text for text in texts), texts


def _baseline_records(folder):
    """GS and IGR-I with the baselines ST-GS and ReinMax; ReinMax has the best bound."""
    categorical = {"forward": "reinmax", "kl": "categorical"}
    return [
        _record(folder, "gs", 1, -100.0), _record(folder, "gs", 2, -100.5),
        _record(folder, "igr_i", 1, -95.0), _record(folder, "igr_i", 2, -95.5),
        _record(folder, "st_gs", 1, -97.0, gap=0.0, objective=dict(categorical, forward="st_gs")),
        _record(folder, "st_gs", 2, -97.5, gap=0.0, objective=dict(categorical, forward="st_gs")),
        _record(folder, "reinmax", 1, -90.0, gap=0.0, objective=categorical),
        _record(folder, "reinmax", 2, -90.5, gap=0.0, objective=categorical),
    ]


def test_baselines_state_their_kl_and_take_no_part_in_the_claim(tmp_path):
    from igr.reporting.vae import diagnostics_markdown

    table = main_table(load_records(_baseline_records(tmp_path)))
    assert list(table["family"]) == ["gs", "igr_i", "st_gs", "reinmax"]  # registry order
    assert dict(zip(table["family"], table["kl"])) == {
        "gs": "relaxed", "igr_i": "relaxed", "st_gs": "categorical", "reinmax": "categorical"
    }
    markdown = markdown_table(table)
    assert "| dataset | architecture | GS | IGR-I | ST-GS | ReinMax |" in markdown
    assert "**-90.25 +- 0.35**" in markdown  # the best bound is marked, whoever has it
    assert (
        "KL of the objective: GS, IGR-I: relaxed KL to the learned uniform prior (closed form "
        "or one-draw Monte Carlo); ST-GS, ReinMax: categorical KL to the uniform prior (exact)."
    ) in markdown
    latex = latex_table(table)
    assert "\\multicolumn{6}{l}{\\footnotesize KL of the objective: GS, IGR-I" in latex
    text = claims(table)
    # ReinMax's better bound changes nothing: IGR-I against GS, as without the baselines.
    assert "mnist, linear: **supported** (best IGR (IGR-I -95.25" in text
    assert "ReinMax left out" not in text
    assert "The baselines ST-GS, ReinMax (one-hot codes, categorical KL)" in text
    without = main_table(load_records(_baseline_records(tmp_path)[:4]))
    assert claims(without).splitlines()[2] == text.splitlines()[2]  # the same verdict line
    assert "baselines" not in claims(without)
    diagnostics = diagnostics_markdown(table)
    assert "| tau from | KL |" in diagnostics
    assert "| ReinMax | 0.2 | calibrated | categorical |" in diagnostics


def test_a_claim_with_only_gs_and_the_baselines_is_not_assessable(tmp_path):
    paths = _baseline_records(tmp_path)
    table = main_table(load_records(paths[:2] + paths[4:]))
    assert "**not assessable** (no IGR family is in this run)" in claims(table)


def test_records_without_an_objective_take_the_kl_from_the_registry(tmp_path):
    table = main_table(load_records([_record(tmp_path, "reinmax", 1, -90.0, gap=0.0),
                                     _record(tmp_path, "gs", 1, -91.0)]))
    assert dict(zip(table["family"], table["kl"])) == {"gs": "relaxed", "reinmax": "categorical"}


def test_summarize_writes_every_table_and_figure_with_the_baselines(tmp_path):
    """The whole ``igr vae summarize`` (tables, claims, the four figures) with them present."""
    import argparse

    import pandas as pd

    from igr.reporting.vae import summarize

    evaluations = _baseline_records(tmp_path)
    histories = []
    for family in ("gs", "igr_i", "st_gs", "reinmax"):
        for seed in (1, 2):
            folder = tmp_path / "vae" / "mnist" / "linear" / family / f"seed{seed}"
            folder.mkdir(parents=True)
            pd.DataFrame({"epoch": [1, 2], "loss": [3.0, 2.0],
                          "test_elbo": [-120.0, -110.0 + seed]}).to_csv(folder / "history.csv")
            histories.append(str(folder / "history.csv"))
    out = tmp_path / "out"
    names = ("table_csv", "table_markdown", "table_latex", "claims", "elbo_figure",
             "distance_figure", "vanished_figure", "diagnostics_figure")
    suffixes = (".csv", ".md", ".tex", ".md", ".png", ".png", ".png", ".png")
    args = argparse.Namespace(
        evaluations=[str(p) for p in evaluations], histories=histories,
        claims_scale="smoke", claims_min_seeds=2, claims_collapse_kl_per_variable=0.05,
        claims_max_relaxation_gap=20.0,
        **{name: out / f"{name}{suffix}" for name, suffix in zip(names, suffixes)},
    )
    assert summarize(args) == 0
    for name in names:
        assert getattr(args, name).stat().st_size > 0, name
    csv = pd.read_csv(args.table_csv)
    assert set(csv.loc[csv["family"].isin(["st_gs", "reinmax"]), "kl"]) == {"categorical"}
    assert "categorical KL to the uniform prior" in args.table_markdown.read_text()
