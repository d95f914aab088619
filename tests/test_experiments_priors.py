"""Stage "priors" (spec section 2): closed forms, fits, files and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from igr.cli import main
from igr.experiments._common import divergences_from_uniform
from igr.distributions import igr_i_uniform_loc
from igr.experiments.priors import learn_prior
from igr.models.relaxed import igr_sb_initial_loc


@pytest.mark.parametrize("k", [2, 3, 10, 50])
def test_igr_i_closed_form_gives_uniform_last_category(k):
    scale = 0.7
    mu0 = igr_i_uniform_loc(k, scale)
    assert norm.cdf(-mu0 / scale) ** (k - 1) == pytest.approx(1 / k, rel=1e-12)


def test_igr_i_closed_form_is_scipy_stats_norm_ppf_to_the_bit():
    """ndtri (no scipy.stats import) gives the very mu0 of norm.ppf, so prior files stay."""
    for k in range(2, 201):
        assert igr_i_uniform_loc(k, 0.7) == -0.7 * norm.ppf(k ** (-1.0 / (k - 1)))


def test_igr_i_closed_form_binary_is_centred():
    assert igr_i_uniform_loc(2, 1.0) == pytest.approx(0.0, abs=1e-12)


def test_divergences_from_uniform():
    assert divergences_from_uniform([0.25] * 4) == {"kl_uniform_to_learned": 0.0, "total_variation": 0.0}
    d = divergences_from_uniform([0.5, 0.5, 0.0])
    assert d["kl_uniform_to_learned"] == math.inf
    assert d["total_variation"] == pytest.approx(1 / 3)
    p = np.array([0.1, 0.2, 0.7])
    assert divergences_from_uniform(p)["kl_uniform_to_learned"] == pytest.approx(
        float(np.sum(np.log(1 / 3 / p)) / 3)
    )
    with pytest.raises(ValueError, match="not a pmf"):
        divergences_from_uniform([0.5, 0.6])


def test_igr_sb_initial_sticks_split_the_unit_stick_evenly():
    k = 6
    v = 1 / (1 + np.exp(-igr_sb_initial_loc(k)))
    pieces, remaining = [], 1.0
    for stick in v:
        pieces.append(stick * remaining)
        remaining *= 1 - stick
    pieces.append(remaining)
    np.testing.assert_allclose(pieces, np.full(k, 1 / k), rtol=1e-6)


@pytest.mark.parametrize("k", [2, 7, 10, 50])
def test_gs_prior_law_is_the_gumbel_softmax_argmax_law_to_the_bit(k):
    """The NumPy softmax of the GS prior job equals the library distribution's law."""
    from igr.models import relaxed

    gs = learn_prior("gs", k)
    law = relaxed.distribution("gs", 1.0, logits=np.zeros(k, np.float32)).argmax_probs()
    assert gs["argmax_probs"] == np.asarray(law, np.float64).tolist()


def test_gs_prior_job_does_not_import_tensorflow(tmp_path):
    import json
    import subprocess
    import sys

    output = tmp_path / "gs_K3.json"
    code = ("import sys\nfrom igr.cli import main\n"
            f"main(['learn-prior', '--family', 'gs', '--num-categories', '3', '--threads', '1',"
            f" '--output', {str(output)!r}])\nprint('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert json.loads(output.read_text())["logits"] == [0.0] * 3


def test_gs_and_igr_i_priors_are_uniform():
    gs = learn_prior("gs", 7)
    assert gs["logits"] == [0.0] * 7
    assert gs["divergence"]["total_variation"] < 1e-6
    igr_i = learn_prior("igr_i", 7, scale=1.0)
    assert igr_i["temperature"] is None and igr_i["prior_family"] == "igr_i"
    np.testing.assert_allclose(igr_i["argmax_probs"], np.full(7, 1 / 7), atol=1e-4)
    planar = learn_prior("igr_planar", 7, scale=1.0)
    assert planar["prior_family"] == "igr_i"
    assert (planar["loc"], planar["scale"]) == (igr_i["loc"], igr_i["scale"])


IGR_SB_SMALL = dict(
    fit_temperature=0.01, num_steps=60, samples_per_step=500, learning_rate=0.05, eval_samples=20000, seed=11
)


def test_igr_sb_fit_is_deterministic_and_improves():
    first = learn_prior("igr_sb", 5, **IGR_SB_SMALL)
    second = learn_prior("igr_sb", 5, **IGR_SB_SMALL)
    assert first == second
    assert first["fit"]["final_loss"] < first["fit"]["initial_loss"]
    assert first["divergence"]["total_variation"] < 0.08
    assert first["settings"] == IGR_SB_SMALL
    assert first["argmax_probs_num_samples"] == IGR_SB_SMALL["eval_samples"]


def test_igr_sb_binary_prior_reaches_uniform():
    """K = 2: category 1 wins iff its stick exceeds 1/2, iff kappa > 0; loc -> 0 works."""
    prior = learn_prior("igr_sb", 2, **IGR_SB_SMALL)
    assert prior["divergence"]["total_variation"] < 0.03


def test_learn_prior_command_writes_the_prior_file(tmp_path, capsys):
    output = tmp_path / "priors" / "igr_i_K4.json"
    assert main(["learn-prior", "--family", "igr_i", "--num-categories", "4", "--scale", "1.0",
                 "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["family"] == "igr_i" and record["num_categories"] == 4
    assert [p.name for p in output.parent.iterdir()] == [output.name]


def test_learn_prior_command_rejects_options_of_other_families(tmp_path):
    with pytest.raises(SystemExit, match="not used by gs: --scale"):
        main(["learn-prior", "--family", "gs", "--num-categories", "4", "--scale", "1.0",
              "--output", str(tmp_path / "gs.json")])
    with pytest.raises(SystemExit, match="required by igr_sb"):
        main(["learn-prior", "--family", "igr_sb", "--num-categories", "4",
              "--output", str(tmp_path / "sb.json")])
    assert not list(tmp_path.iterdir())


def test_summarize_priors_writes_table_and_figure(tmp_path):
    paths = []
    for family in ("gs", "igr_i"):
        path = tmp_path / f"{family}_K3.json"
        main(["learn-prior", "--family", family, "--num-categories", "3", "--output", str(path)]
             + (["--scale", "1.0"] if family == "igr_i" else []))
        paths.append(str(path))
    table, figure = tmp_path / "summary.csv", tmp_path / "laws.png"
    assert main(["summarize-priors", *paths, "--output-table", str(table), "--output-figure", str(figure)]) == 0
    assert table.read_text().splitlines()[0].startswith("family,num_categories,kl_uniform_to_learned")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_uniform_prior_helper_has_a_uniform_argmax_law():
    """The README's library example: IGRI(zeros, ones) is not uniform, the helper is."""
    import tensorflow as tf

    from igr.distributions import IGRI, uniform_prior

    for family in ("gs", "igr_i"):
        prior = uniform_prior(family, 10, 0.5, batch_shape=[3])
        assert prior.batch_shape == [3]
        np.testing.assert_allclose(prior.argmax_probs(), np.full((3, 10), 0.1), atol=1e-5)
    naive = IGRI(tf.zeros([9]), tf.ones([9]), 0.5).argmax_probs().numpy()
    assert naive[-1] == pytest.approx(2.0**-9, rel=1e-3) and naive[0] == pytest.approx(0.111, abs=1e-3)
    with pytest.raises(ValueError, match="no closed-form uniform prior for 'igr_sb'"):
        uniform_prior("igr_sb", 10, 0.5)
