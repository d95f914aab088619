"""igr.pipeline: the strict config checks as millisecond unit tests (no Snakemake, no TF)."""

from __future__ import annotations

import pytest

from igr.pipeline.config import config_problems, duplicate_key_problems, schema_problems
from igr.pipeline.data import dataset_identity, pipeline_data_dir
from tests.config_cases import DEFAULT, PAPER, REPO_ROOT, SCHEMA
from tests.config_cases import with_change as _with


@pytest.mark.parametrize("config", [DEFAULT, PAPER], ids=["default", "paper"])
def test_shipped_configs_pass(config, tmp_path):
    assert config_problems(config, SCHEMA, environ={"IGR_DATA_DIR": str(tmp_path)}) == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("vae.seeds", [5328.0], "config key 'vae.seeds[0]': must be an integer, got the float 5328.0"),
        ("sop.seeds", [5328, 5945.0], "config key 'sop.seeds[1]': must be an integer"),
        ("vae.epochs", 5.0, "config key 'vae.epochs': must be an integer, got the float 5.0 (write 5"),
        ("vae.learning_rate", float("nan"), "config key 'vae.learning_rate': must be a finite number, got nan"),
        ("vae.temperatures.gs", float("inf"), "config key 'vae.temperatures.gs': must be a finite number, got inf"),
        ("priors.igr_i.scale", float("-inf"), "config key 'priors.igr_i.scale': must be a finite number"),
        ("vae.epochs", 10**12, "config key 'vae.epochs': 1000000000000 is greater than the maximum"),
        ("priors.igr_sb.samples_per_step", 10**12, "config key 'priors.igr_sb.samples_per_step': 1000000000000 is greater than the maximum"),
        ("approximations.samples_per_step", 10**12, "config key 'approximations.samples_per_step'"),
        ("simplex_proximity.num_samples", 10**12, "config key 'simplex_proximity.num_samples'"),
        ("data.dir", "", "config key 'data.dir': '' should be non-empty"),
    ],
)
def test_values_that_plain_json_schema_accepts_are_rejected(key, value, expected):
    problems = schema_problems(_with(key, value), SCHEMA)
    assert any(problem.startswith(expected) for problem in problems), problems
    assert len(problems) == 1, problems  # one message per key, not one per violated rule


def test_all_zero_fixed_pmf_is_rejected(tmp_path):
    config = _with("approximations.targets.fixed_pmf", {"weights": [0, 0, 0]})
    problems = config_problems(config, SCHEMA, environ={})
    assert problems == [
        "config key 'approximations.targets.fixed_pmf.weights': all weights are 0, the target "
        "pmf is undefined"
    ]


def test_a_named_data_folder_that_does_not_exist_fails_when_a_stage_needs_it(tmp_path):
    missing = tmp_path / "nowhere"
    needs_mnist = _with("vae.datasets", ["mnist"])
    problems = config_problems(_with("data.dir", str(missing), needs_mnist), SCHEMA, environ={})
    assert problems == [
        f"config key 'data.dir': data folder {missing} does not exist, but vae.datasets needs "
        "mnist from it"
    ]
    problems = config_problems(needs_mnist, SCHEMA, environ={"IGR_DATA_DIR": str(missing)})
    assert problems and problems[0].startswith(f"IGR_DATA_DIR: data folder {missing}")
    # digits need no folder; the default folder is created by fetch_data
    assert config_problems(_with("data.dir", str(missing)), SCHEMA, environ={}) == []
    assert config_problems(needs_mnist, SCHEMA, environ={}) == []


def test_duplicate_keys_are_found_with_their_lines(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("vae:\n  epochs: 3\n  seeds: [1]\n  epochs: 4\nsop: {}\n")
    assert duplicate_key_problems([path]) == [
        f"config file {path}: key 'epochs' appears twice (lines 2 and 4); remove one, "
        "YAML keeps only the last"
    ]
    path.write_text("vae:\n  epochs: 3\n")
    assert duplicate_key_problems([path]) == []
    assert duplicate_key_problems([REPO_ROOT / "config" / "paper.yaml"]) == []


def test_data_dir_precedence_and_identity_without_paths(tmp_path):
    assert pipeline_data_dir({"data": {"dir": str(tmp_path)}}, {"IGR_DATA_DIR": "/x"}) == tmp_path
    assert pipeline_data_dir({"data": {"dir": None}}, {"IGR_DATA_DIR": str(tmp_path)}) == tmp_path
    assert pipeline_data_dir({"data": {"dir": None}}, {}).parts[-2:] == ("resources", "data")
    identity = dataset_identity("mnist")
    assert "train-images-idx3-ubyte.gz=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db" in identity
    assert "/" not in identity  # no location: moving the data changes nothing
    assert dataset_identity("digits") == "digits:bundled-with-scikit-learn"


def test_results_dir_outside_the_working_directory_is_rejected():
    from tests.config_cases import assert_rejected

    for root in ("../elsewhere", "/tmp/results", "results/../../x"):
        assert_rejected("results_dir", root, "'results_dir'", "must be a relative path")
