"""igr.pipeline.workflow.Pipeline: the params, inputs and grids the rules pass on (no Snakemake)."""

from __future__ import annotations

from igr.pipeline.workflow import Pipeline, cli_options
from tests.config_cases import DEFAULT, PAPER, REPO_ROOT, with_change


def _merged(base: dict, update: dict) -> dict:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def test_options_are_sorted_and_deterministic():
    assert cli_options({"num_steps": 200, "learning_rate": 0.05}) == "--learning-rate 0.05 --num-steps 200"


def test_prior_files_and_options_follow_the_registry():
    pipeline = Pipeline(with_change("vae.truncation.max_categories", 50))
    assert pipeline.prior_options("igr_planar") == pipeline.prior_options("igr_i") == "--scale 1.0"
    assert pipeline.prior_options("gs") == ""
    assert "--fit-temperature 0.01" in pipeline.prior_options("igr_sb")
    assert pipeline.vae_prior("igr_planar") == "results/priors/igr_planar_K10.json"
    assert pipeline.vae_prior("igr_sb_trunc") == "results/priors/igr_sb_K50.json"


def test_family_specific_training_options():
    pipeline = Pipeline(DEFAULT)
    planar = pipeline.vae_train_options("igr_planar")
    assert "--planar-layers 2" in planar and "--threshold" not in planar
    truncated = pipeline.vae_train_options("igr_sb_trunc")
    assert "--threshold 0.9" in truncated and "--quantile 0.75" in truncated
    assert "--planar-layers" not in pipeline.vae_train_options("igr_i")
    assert "--kl-warmup-steps 1000" in pipeline.vae_train_options("igr_i")
    assert "--kl-warmup-steps 0" in Pipeline(with_change("vae.kl_warmup_steps", 0)).vae_train_options("gs")
    assert pipeline.vae_train_options("igr_i").endswith(
        "--temperature-file results/temperatures/igr_i_K10.json --jit auto --expect-xla training"
    )
    assert pipeline.vae_temperature_file("igr_sb_trunc") == ["results/temperatures/igr_sb_trunc_K10.json"]
    given = Pipeline(with_change("vae.temperatures.igr_i", 0.5))
    assert given.vae_train_options("igr_i").endswith(
        "--temperature 0.5 --jit auto --expect-xla training")
    assert given.vae_temperature_file("igr_i") == []


def test_calibration_reads_the_family_prior_and_keeps_the_truncation():
    pipeline = Pipeline(DEFAULT)
    assert pipeline.temperature_prior("igr_planar", 10) == "results/priors/igr_planar_K10.json"
    assert pipeline.temperature_prior("igr_sb_trunc", 10) == "results/priors/igr_sb_K10.json"
    options = pipeline.calibration_options("igr_sb_trunc")
    assert "--fraction 0.75" in options and "--threshold 0.9" in options
    assert "--threshold" not in pipeline.calibration_options("gs")
    assert pipeline.sop_temperature_file("igr_i") == ["results/temperatures/igr_i_K2.json"]
    assert "results/temperatures/gs_K2.json" in pipeline.temperature_outputs()


def test_jit_options_name_the_parts_the_table_compiles(monkeypatch):
    """The rules' params carry the resolved XLA parts, so a change of the table in
    igr.families reruns exactly the jobs of the families it changes."""
    import dataclasses

    from igr import families

    pipeline = Pipeline(DEFAULT)
    assert pipeline.vae_train_options("gs").endswith(" --jit auto --expect-xla training")
    assert families.xla_parts("st_gs", "train") == "training"  # measured faster (README)
    assert families.xla_parts("st_gs", "train", False) == "none"
    assert families.xla_parts("reinmax", "evaluate", "true") == "evaluation,bound_kernels"
    assert pipeline.vae_evaluate_options("igr_i").endswith(
        " --jit auto --expect-xla bound_kernels")
    forced = Pipeline(with_change("vae.jit_compile", True))
    assert forced.vae_evaluate_options("gs").endswith(
        " --jit true --expect-xla evaluation,bound_kernels")
    assert Pipeline(with_change("vae.jit_compile", False)).vae_evaluate_options("gs").endswith(
        " --jit false --expect-xla none")

    names = DEFAULT["vae"]["families"]
    assert "igr_i" in names and len(names) > 1
    before = {name: pipeline.vae_train_options(name) for name in names}
    monkeypatch.setitem(families.FAMILIES, "igr_i",
                        dataclasses.replace(families.FAMILIES["igr_i"], xla=frozenset()))
    after = {name: pipeline.vae_train_options(name) for name in names}
    assert [name for name in before if before[name] != after[name]] == ["igr_i"]
    assert after["igr_i"].endswith(" --expect-xla none")


def test_grids_and_resources():
    from snakemake.utils import validate  # fills in the schema's defaults, as the Snakefile

    config = _merged(DEFAULT, PAPER)
    validate(config, str(REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    pipeline = Pipeline(config)
    runs = pipeline.vae_grid()
    assert len(runs) == 3 * 2 * 4 * 5 + 2 * 5 + 3 * 2 * 2 * 5  # main + CelebA + baselines
    assert len({tuple(r.values()) for r in runs}) == len(runs)
    assert pipeline.rule_resources("train_vae")["slurm_extra"] == "--requeue"
    assert pipeline.rule_resources("train_vae")["gpu"] == 1
    assert "gpu" not in pipeline.rule_resources("learn_prior")
    assert Pipeline(DEFAULT).simplex_proximity_options().endswith("--igr-i-scales 1.0 2.0 3.0")


def test_results_dir_moves_every_output_and_log():
    default, paper = Pipeline(DEFAULT), Pipeline(_merged(DEFAULT, PAPER))
    assert paper.config["results_dir"] == "results/paper"
    assert all(path.startswith("results/") for path in default.all_outputs())
    assert not any(path.startswith("results/paper/") for path in default.all_outputs())
    assert all(path.startswith("results/paper/") for path in paper.all_outputs())
    assert paper.paths.log_path("train_vae", "x") == "results/paper/logs/train_vae/x.log"
    assert default.paths.log_path("train_vae", "x") == "logs/train_vae/x.log"
    assert paper.paths.prior_path("gs", 10) == "results/paper/priors/gs_K10.json"
    assert paper.vae_prior("gs") == "results/paper/priors/gs_K10.json"


def test_sop_baselines_read_gs_calibration_at_k2_or_take_their_number():
    """ST-GS and ReinMax in the SOP (issue 17), with the schema's defaults filled in:
    ST-GS calibrated (its own K = 2 calibration job, which reads GS's prior at K = 2),
    ReinMax at its default 1.0 (no calibration file); the paper's numbers."""
    from snakemake.utils import validate

    schema = str(REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml")
    config = with_change("sop.families", ["gs", "igr_i", "st_gs", "reinmax"])
    validate(config, schema)
    pipeline = Pipeline(config)
    assert config["sop"]["temperatures"]["st_gs"] == "calibrated"
    assert config["sop"]["temperatures"]["reinmax"] == 1.0
    assert pipeline.sop_temperature_file("st_gs") == ["results/temperatures/st_gs_K2.json"]
    assert pipeline.temperature_prior("st_gs", 2) == "results/priors/gs_K2.json"
    assert pipeline.sop_train_options("st_gs").startswith(
        "--batch-size 100 --checkpoint-every 10 --epochs 30")
    assert "--temperature-file results/temperatures/st_gs_K2.json" in pipeline.sop_train_options(
        "st_gs")
    assert pipeline.sop_temperature_file("reinmax") == []
    assert "--temperature 1.0" in pipeline.sop_train_options("reinmax")
    assert "results/temperatures/st_gs_K2.json" in pipeline.temperature_outputs()
    assert not any("reinmax" in path for path in pipeline.temperature_outputs())
    assert len(pipeline.sop_run_files("evaluation.json")) == 4 * 2  # families x seeds
    paper = _merged(DEFAULT, PAPER)
    validate(paper, schema)
    paper_pipeline = Pipeline(paper)
    assert "--temperature 0.5" in paper_pipeline.sop_train_options("st_gs")
    assert "--temperature 1.0" in paper_pipeline.sop_train_options("reinmax")
    assert paper_pipeline.sop_temperature_file("st_gs") == []
