"""Stage "gradients" in the pipeline: params, inputs, outputs and config checks (no Snakemake)."""

from __future__ import annotations

import shlex

from igr.cli import build_parser
from igr.pipeline.config import config_problems
from igr.pipeline.workflow import REPORT_CATEGORIES, Pipeline
from tests.config_cases import DEFAULT, PAPER, SCHEMA, with_change


def test_toy_options_parse_as_the_command_and_carry_every_setting():
    pipeline = Pipeline(DEFAULT)
    options = pipeline.gradient_toy_options()
    args = build_parser().parse_args(
        ["gradients", "toy", "--output", "t.csv", *shlex.split(options)]
    )
    toy = DEFAULT["gradients"]["toy"]
    assert args.categories == toy["num_categories"] and args.temperatures == toy["temperatures"]
    assert args.families == toy["families"] and args.objectives == toy["objectives"]
    assert (args.num_draws, args.exact_draws, args.blocks, args.seed) == (
        toy["num_draws"], toy["exact_draws"], toy["blocks"], toy["seed"])
    # a changed hyper-parameter changes the params (so it reruns the job)
    changed = Pipeline(with_change("gradients.toy.num_draws", 20000)).gradient_toy_options()
    assert changed != options and "--num-draws 20000" in changed


def test_calibration_files_are_inputs_only_when_calibrated():
    pipeline = Pipeline(PAPER)
    files = pipeline.gradient_temperature_files()
    assert "results/paper/temperatures/igr_sb_K50.json" in files
    assert len(files) == 2 * 4  # K 10 and 50, four families
    assert Pipeline(with_change("gradients.toy.calibrated", False)).gradient_temperature_files() == []


def test_outputs_claims_and_pages_follow_enabled():
    on, off = Pipeline(DEFAULT), Pipeline(with_change("gradients.toy.enabled", False))
    assert on.paths.GRADIENTS_CLAIMS in on.all_outputs()
    assert any(c.startswith("gradient estimators=") for c in on.report_claim_files())
    assert any(p["name"] == "gradients_claims" for p in on.report_pages())
    assert all(p["category"] == REPORT_CATEGORIES["gradients"] for p in on.report_pages()
               if p["name"].startswith("gradients"))
    assert not set(on.gradients_outputs()) & set(off.all_outputs())
    assert off.gradient_temperature_files() == []
    assert not any(c.startswith("gradient estimators=") for c in off.report_claim_files())


def test_config_checks_name_the_key(tmp_path):
    environ = {"IGR_DATA_DIR": str(tmp_path)}
    problems = config_problems(with_change("gradients.toy.num_categories", [10, 20]), SCHEMA,
                               environ=environ)
    assert problems == ["config key 'priors.num_categories': must include K = 20 "
                        "(gradients.toy.num_categories with gradients.toy.calibrated: true)"]
    uncalibrated = with_change("gradients.toy.num_categories", [10, 20])
    uncalibrated["gradients"]["toy"]["calibrated"] = False
    assert config_problems(uncalibrated, SCHEMA, environ=environ) == []
    problems = config_problems(with_change("gradients.toy.num_draws", 30), SCHEMA, environ=environ)
    assert len(problems) == 1 and problems[0].startswith("config key 'gradients.toy.num_draws'")
    problems = config_problems(with_change("gradients.toy.families", ["gs", "igr_sb_trunc"]),
                               SCHEMA, environ=environ)
    assert len(problems) == 1 and "gradients.toy.families" in problems[0]
