"""One source of defaults: each ``igr`` option that a config key feeds has the schema's default."""

from __future__ import annotations

import argparse

import pytest

from igr.cli import build_parser
from tests.config_cases import SCHEMA

#: (subcommand path, option dest) -> schema key path (properties.<...>).
FED_BY_CONFIG = {
    (("vae", "train"), "num_variables"): ("vae", "num_variables"),
    (("vae", "train"), "num_categories"): ("vae", "num_categories"),
    (("vae", "train"), "planar_layers"): ("vae", "planar_layers"),
    (("vae", "train"), "threshold"): ("vae", "truncation", "threshold"),
    (("vae", "train"), "quantile"): ("vae", "truncation", "quantile"),
    (("vae", "train"), "batch_size"): ("vae", "batch_size"),
    (("vae", "train"), "learning_rate"): ("vae", "learning_rate"),
    (("vae", "train"), "checkpoint_every"): ("vae", "checkpoint_every"),
    (("vae", "train"), "eval_every"): ("vae", "eval_every"),
    (("vae", "train"), "eval_examples"): ("vae", "eval_examples"),
    (("vae", "evaluate"), "num_importance_samples"): ("vae", "evaluation", "num_importance_samples"),
    (("vae", "evaluate"), "argmax_samples"): ("vae", "evaluation", "argmax_samples"),
    (("vae", "evaluate"), "eval_examples"): ("vae", "evaluation", "eval_examples"),
    (("sop", "train"), "planar_layers"): ("sop", "planar_layers"),
    (("sop", "train"), "batch_size"): ("sop", "batch_size"),
    (("sop", "train"), "learning_rate"): ("sop", "learning_rate", "initial"),
    (("sop", "train"), "learning_rate_decay"): ("sop", "learning_rate", "decay"),
    (("sop", "train"), "learning_rate_floor"): ("sop", "learning_rate", "floor"),
    (("sop", "train"), "checkpoint_every"): ("sop", "checkpoint_every"),
    (("sop", "train"), "num_samples"): ("sop", "test_samples"),
    (("sop", "train"), "eval_batch_size"): ("sop", "eval_batch_size"),
    (("sop", "train"), "eval_examples"): ("sop", "eval_examples"),
    (("sop", "train"), "num_predictions"): ("sop", "num_predictions"),
    (("sop", "evaluate"), "eval_batch_size"): ("sop", "eval_batch_size"),
    (("calibrate-temperature",), "fraction"): ("calibration", "fraction"),
    (("calibrate-temperature",), "distance"): ("calibration", "distance"),
    (("calibrate-temperature",), "num_samples"): ("calibration", "num_samples"),
    (("calibrate-temperature",), "seed"): ("calibration", "seed"),
    (("simplex-proximity",), "igr_i_scales"): ("simplex_proximity", "igr_i_scales"),
    (("gradients", "toy"), "num_draws"): ("gradients", "toy", "num_draws"),
    (("gradients", "toy"), "exact_draws"): ("gradients", "toy", "exact_draws"),
    (("gradients", "toy"), "categories"): ("gradients", "toy", "num_categories"),
    (("gradients", "toy"), "temperatures"): ("gradients", "toy", "temperatures"),
    (("gradients", "toy"), "objectives"): ("gradients", "toy", "objectives"),
    (("gradients", "toy"), "families"): ("gradients", "toy", "families"),
    (("gradients", "toy"), "blocks"): ("gradients", "toy", "blocks"),
    (("gradients", "toy"), "planar_layers"): ("gradients", "toy", "planar_layers"),
    (("gradients", "toy"), "seed"): ("gradients", "toy", "seed"),
    (("gradients", "summarize"), "claims_scale"): ("claims", "scale"),
    (("vae", "summarize"), "claims_scale"): ("claims", "scale"),
    (("vae", "summarize"), "claims_min_seeds"): ("claims", "min_seeds"),
    (("vae", "summarize"), "claims_collapse_kl_per_variable"): ("claims", "collapse_kl_per_variable"),
    (("vae", "summarize"), "claims_max_relaxation_gap"): ("claims", "max_relaxation_gap"),
}


def _subparser(path):
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


def _schema_default(keys):
    node = SCHEMA["properties"][keys[0]]
    for key in keys[1:]:
        node = node["properties"][key]
    return node["default"]


@pytest.mark.parametrize(("option", "keys"), list(FED_BY_CONFIG.items()), ids=lambda v: str(v))
def test_cli_default_equals_schema_default(option, keys):
    path, dest = option
    cli_default = _subparser(path).get_default(dest)
    assert cli_default == _schema_default(keys), (path, dest)
