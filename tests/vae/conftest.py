"""Fixtures of the VAE tests: prior files written by the priors stage's own code."""

from __future__ import annotations

import pytest

from igr.experiments.priors import learn_prior
from igr.io import write_json_atomic


@pytest.fixture(scope="session")
def prior_files(tmp_path_factory):
    """``{family: path}`` of K = 10 prior files (IGR-SB fitted briefly, enough for tests)."""
    folder = tmp_path_factory.mktemp("priors")
    records = {
        "gs": learn_prior("gs", 10),
        "igr_i": learn_prior("igr_i", 10, scale=1.0),
        "igr_planar": learn_prior("igr_planar", 10, scale=1.0),
        "igr_sb": learn_prior(
            "igr_sb", 10, fit_temperature=0.01, num_steps=20, samples_per_step=200,
            learning_rate=0.05, eval_samples=1000, seed=1,
        ),
    }
    paths = {}
    for family, record in records.items():
        paths[family] = folder / f"{family}_K10.json"
        write_json_atomic(paths[family], record)
    return paths
