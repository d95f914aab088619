"""Config validation: broken configs fail before any job, naming the key; defaults fill in."""

from __future__ import annotations

import pytest

from pipeline_helpers import copy_workflow, default_config, planned_jobs, snakemake, write_config

from igr.pipeline.config import config_problems
from tests.config_cases import SCHEMA, assert_rejected, with_change


def _with(config: dict, dotted_key: str, value) -> dict:
    *parents, last = dotted_key.split(".")
    section = config
    for name in parents:
        section = section.setdefault(name, {})
    section[last] = value
    return config


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("config-checks") / "igr")


BROKEN = [
        ("colour", "blue", "'colour'", "unknown key"),
        ("priors.igr_sb.nmu_steps", 10, "'priors.igr_sb.nmu_steps'", "unknown key"),
        ("resources.learn_prior.gpu", 1, "'resources.learn_prior.gpu'", "unknown key"),
        ("resources.train_vae.gpus", -1, "'resources.train_vae.gpus'", "less than the minimum"),
        ("priors.families", [], "'priors.families'", "should be non-empty"),
        ("priors.families", ["gs", "igr_x"], "'priors.families[1]'", "is not one of"),
        ("priors.num_categories", [1], "'priors.num_categories[0]'", "less than the minimum"),
        ("priors.igr_sb.fit_temperature", 0, "'priors.igr_sb.fit_temperature'", "less than or equal"),
        ("priors.igr_sb.fit_temperature", "cold", "'priors.igr_sb.fit_temperature'", "not of type"),
        ("priors.igr_sb.num_steps", 2.5, "'priors.igr_sb.num_steps'", "not of type 'integer'"),
        ("priors.igr_i.scale", -1.0, "'priors.igr_i.scale'", "less than or equal"),
        ("simplex_proximity.temperatures", [0.1, -0.5], "'simplex_proximity.temperatures[1]'", "less than or equal"),
        ("simplex_proximity.temperatures", ["0.1"], "'simplex_proximity.temperatures[0]'", "not of type"),
        ("simplex_proximity.temperatures", [0.5, 0.1], "'simplex_proximity.temperatures'", "strictly increasing"),
        ("simplex_proximity.families", [], "'simplex_proximity.families'", "should be non-empty"),
        ("simplex_proximity.families", ["igr_sb"], "'simplex_proximity.families[0]'", "is not one of"),
        ("simplex_proximity.num_samples", "many", "'simplex_proximity.num_samples'", "not of type"),
        ("vae.extra_grids", [{"datasets": ["celeba"], "families": ["gs"]}], "'vae.extra_grids[0]'", "'architectures' is a required property"),
        ("vae.extra_grids", [{"datasets": ["celeba"], "architectures": ["conv"], "families": ["igr_x"]}], "'vae.extra_grids[0].families[0]'", "is not one of"),
        ("vae.families", ["igr_sb"], "'vae.families' (or 'vae.extra_grids'): igr_sb needs the igr_sb prior", "priors.families"),
        ("vae.num_categories", 7, "'priors.num_categories'", "must include K = 7"),
]


@pytest.mark.parametrize(("key", "value", "named", "reason"), BROKEN)
def test_broken_config_is_rejected_naming_the_key(key, value, named, reason):
    """igr.pipeline.config, as the Snakefile runs it (milliseconds, no Snakemake)."""
    if key == "vae.families":
        value_config = with_change("priors.families", ["gs", "igr_i"])
        problems = config_problems(with_change(key, value, value_config), SCHEMA, environ={})
        assert any(named in p and reason in p for p in problems), problems
        return
    assert_rejected(key, value, named, reason)


@pytest.mark.parametrize(
    ("key", "value", "named", "reason"),
    [
        ("colour", "blue", "'colour'", "unknown key"),
        ("priors.igr_sb.num_steps", 2.5, "'priors.igr_sb.num_steps'", "not of type 'integer'"),
        ("simplex_proximity.temperatures", [0.5, 0.1], "'simplex_proximity.temperatures'", "strictly increasing"),
    ],
)
def test_broken_config_is_rejected_before_any_job(workdir, tmp_path, key, value, named, reason):
    """A few of the cases through Snakemake itself: nothing runs, the message names the key."""
    broken = write_config(tmp_path / "broken.yaml", _with(default_config(workdir), key, value))
    result = snakemake(workdir, "--cores", "1", "--configfile", str(broken))
    assert result.returncode != 0
    assert "Invalid configuration" in result.stderr, result.output
    problem_lines = [line for line in result.stderr.splitlines() if named in line]
    assert problem_lines, f"no message names {named}:\n{result.stderr}"
    assert any(reason in line for line in problem_lines), result.stderr
    for produced in ("results", "logs"):
        assert not (workdir / produced).exists(), f"{produced}/ was created: a job ran"


def test_empty_config_gets_the_schema_defaults(tmp_path):
    """With an empty config file the schema's defaults plan the same jobs as the default."""
    workdir = copy_workflow(tmp_path / "igr")
    expected = planned_jobs(snakemake(workdir, "--dry-run").output)
    (workdir / "config" / "config.yaml").write_text("{}\n")
    result = snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.output
    assert planned_jobs(result.output) == expected
    # 7 priors (K = 10, and K = 2 for the SOP's calibration) + 6 temperatures (4 families at
    # K = 10 for the VAEs and the gradient study, 2 at K = 2) + 2 proximity + 2 data (codes
    # for the VAEs, digits for the SOP) + 5 vae + 5 approximations + 5 sop + 4 gradients
    # (toy study, one encoder-gradient job per VAE run, summary) + report pages + all
    assert len(expected) == 38


def test_paper_config_is_valid_and_plans_the_paper_grid(tmp_path):
    workdir = copy_workflow(tmp_path / "igr")
    result = snakemake(workdir, "--dry-run", "--configfile", "config/paper.yaml")
    assert result.returncode == 0, result.output
    jobs = planned_jobs(result.output)
    priors = [job for job in jobs if job.startswith("learn_prior[")]
    families = ("gs", "igr_i", "igr_planar", "igr_sb")
    # K = 50: the truncated family's K_max and the simplex-proximity stage.
    expected = {f"learn_prior[family={f}, K={k}]" for f in families for k in (2, 10, 50)}
    assert set(priors) == expected
    assert {"all", "simplex_proximity", "summarize_priors"} <= set(jobs)
    seeds = (5328, 5945, 8965, 49, 9337)
    main_grid = {
        f"train_vae[dataset={d}, architecture={a}, family={f}, seed={s}]"
        for d in ("mnist", "fashion-mnist", "omniglot")
        for a in ("linear", "nonlinear")
        for f in families
        for s in seeds
    }
    celeba = {
        f"train_vae[dataset=celeba, architecture=conv, family={f}, seed={s}]"
        for f in ("gs", "igr_sb_trunc")
        for s in seeds
    }
    baselines = {
        f"train_vae[dataset={d}, architecture={a}, family={f}, seed={s}]"
        for d in ("mnist", "fashion-mnist", "omniglot")
        for a in ("linear", "nonlinear")
        for f in ("st_gs", "reinmax")
        for s in seeds
    }
    assert {job for job in jobs if job.startswith("train_vae[")} == main_grid | celeba | baselines
    # the gradient study: the toy at K 10 and 50 with every family's calibration, and one
    # encoder-gradient job per trained VAE
    assert {"gradient_study_toy", "summarize_gradients"} <= set(jobs)
    assert {f"calibrate_temperature[family={f}, K={k}]" for f in families for k in (10, 50)} <= set(
        jobs)
    assert sum(job.startswith("vae_encoder_gradients[") for job in jobs) == len(
        main_grid | celeba | baselines)
    # the SOP: every family with the baselines ST-GS and ReinMax (issue 17), at the given
    # temperatures (no K = 2 calibration job)
    assert {job for job in jobs if job.startswith("train_sop[")} == {
        f"train_sop[dataset=mnist, family={f}, seed={s}]"
        for f in (*families, "st_gs", "reinmax")
        for s in seeds
    }
    assert not any(job.endswith(", K=2]") and job.startswith("calibrate_temperature[")
                   for job in jobs)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("vae:\n  epochs: 3\n  epochs: 4\n", "key 'epochs' appears twice (lines 2 and 3)",
                     id="duplicate-key"),
        pytest.param("vae:\n  seeds: [5328.0]\n", "config key 'vae.seeds[0]': must be an integer",
                     id="float-seed"),
        pytest.param("vae:\n  epochs: 5.0\n", "config key 'vae.epochs': must be an integer",
                     id="integral-float"),
        pytest.param("vae:\n  learning_rate: .nan\n", "config key 'vae.learning_rate': must be a finite number",
                     id="nan"),
        pytest.param("sop:\n  epochs: 1000000000000\n", "config key 'sop.epochs': 1000000000000 is greater than the maximum",
                     id="absurd-size"),
        pytest.param("data:\n  dir: /nonexistent/igr-data\nvae:\n  datasets: [mnist]\n",
                     "data folder /nonexistent/igr-data does not exist, but vae.datasets needs mnist",
                     id="missing-data-folder"),
    ],
)
def test_config_mistakes_yaml_lets_through_are_rejected(workdir, tmp_path, text, named):
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    result = snakemake(workdir, "--cores", "1", "--configfile", str(broken))
    assert result.returncode != 0
    assert "Invalid configuration" in result.stderr, result.output
    assert any(named in line for line in result.stderr.splitlines()), result.stderr
    assert "Traceback" not in result.output
    for produced in ("results", "logs"):
        assert not (workdir / produced).exists(), f"{produced}/ was created: a job ran"


def test_sop_baselines_plan_their_jobs(tmp_path):
    """sop.families with ST-GS and ReinMax (schema defaults: ST-GS calibrated, ReinMax 1.0):
    ST-GS's K = 2 calibration reads GS's prior at K = 2; ReinMax needs no calibration."""
    workdir = copy_workflow(tmp_path / "igr")
    config = default_config(workdir)
    config["sop"]["families"] = ["gs", "igr_i", "st_gs", "reinmax"]
    path = write_config(tmp_path / "baselines.yaml", config)
    result = snakemake(workdir, "--dry-run", "--printshellcmds", "--configfile", str(path))
    assert result.returncode == 0, result.output
    jobs = planned_jobs(result.output)
    assert {job for job in jobs if job.startswith("train_sop[")} == {
        f"train_sop[dataset=digits, family={f}, seed={s}]"
        for f in ("gs", "igr_i", "st_gs", "reinmax")
        for s in (5328, 5945)
    }
    calibrations = {job for job in jobs if job.startswith("calibrate_temperature[")}
    assert "calibrate_temperature[family=st_gs, K=2]" in calibrations
    assert not any("reinmax" in job for job in calibrations)
    assert "learn_prior[family=gs, K=2]" in jobs
    assert "--family st_gs --num-categories 2 --prior results/priors/gs_K2.json" in result.output
