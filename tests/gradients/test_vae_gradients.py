"""``igr gradients vae``: the encoder-gradient statistics of a trained VAE, and their
gathering into ``vae.csv`` and the claim by ``igr gradients summarize``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from igr import cli
from igr.experiments import gradient_vae


def test_batch_statistics_recover_a_known_mean_and_variance():
    rng = np.random.default_rng(0)
    repeats, mean, sd = 4000, np.array([3.0, -4.0, 0.0]), np.array([1.0, 2.0, 0.5])
    draws = mean + sd * rng.standard_normal((repeats, 3))
    stats = gradient_vae.batch_statistics(draws.sum(0), (draws**2).sum(0), repeats)
    variance = float(np.sum(sd**2))  # 5.25
    assert stats["variance"] == pytest.approx(variance, rel=0.05)
    assert stats["signal"] == pytest.approx(25.0, abs=0.3)  # ||mean||^2, noise removed
    assert stats["relative_variance"] == pytest.approx(variance / 25.0, rel=0.06)
    assert stats["snr"] == pytest.approx(math.sqrt(25.0 / variance), rel=0.03)
    # |m_i| / s_i: 3, 2, ~0 -> median 2
    assert stats["median_coordinate_snr"] == pytest.approx(2.0, rel=0.05)


def test_batch_summary_is_the_mean_with_its_standard_error():
    per_batch = [dict.fromkeys(gradient_vae.BATCH_STATISTICS, value) for value in (1.0, 3.0)]
    summary = gradient_vae.summarize_batches(per_batch)
    assert summary["variance"] == 2.0 and summary["variance_se"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "warmup, step, beta", [(0, 10, 1.0), (100, 50, 0.5), (100, 300, 1.0)]
)
def test_final_kl_weight(warmup, step, beta):
    record = {"training": {"kl_warmup_steps": warmup}, "final": {"step": step}}
    assert gradient_vae.final_kl_weight(record) == beta


@pytest.fixture(scope="module")
def trained(prior_files, tmp_path_factory):
    """A GS VAE on the 8x8 digits, one epoch (in-process ``igr vae train``)."""
    folder = tmp_path_factory.mktemp("vae")
    code = cli.main([
        "vae", "train", "--dataset", "digits", "--architecture", "nonlinear", "--family", "gs",
        "--prior", str(prior_files["gs"]), "--temperature", "0.5", "--epochs", "1",
        "--batch-size", "50", "--seed", "3", "--eval-examples", "50",
        "--num-variables", "4", "--run-dir", str(folder / "run"),
        "--history", str(folder / "history.csv"), "--output", str(folder / "train.json"),
    ])
    assert code == 0
    return folder / "train.json"


def test_command_writes_one_row_that_repeats_exactly(trained, tmp_path):
    outputs = [tmp_path / "a.json", tmp_path / "b.json"]
    for output in outputs:
        code = cli.main(["gradients", "vae", str(trained), "--num-batches", "2",
                         "--repeats", "20", "--output", str(output)])
        assert code == 0
    first, second = (json.loads(p.read_text()) for p in outputs)
    row = first["row"]
    assert set(row) == set(gradient_vae.COLUMNS)
    assert (row["family"], row["num_batches"], row["repeats"], row["batch_size"]) == (
        "gs", 2, 20, 50)
    assert row["variance"] > 0 and math.isfinite(row["relative_variance"]) and row["snr"] > 0
    assert row["objective"] == "relaxed" and row["kl_weight"] == 1.0
    # the encoder only: digits 64 pixels -> ... -> V K = 4 x 10 logits
    assert row["encoder_parameters"] > 64 * 40
    assert {k: v for k, v in row.items() if k != "seconds"} == {
        k: v for k, v in second["row"].items() if k != "seconds"}
    assert "packages" in first["provenance"]


def test_bad_inputs_exit_2_in_one_line(trained, tmp_path, capsys):
    output = tmp_path / "g.json"
    assert cli.main(["gradients", "vae", str(trained), "--num-batches", "1",
                     "--output", str(output)]) == 2
    assert "--num-batches: must be >= 2" in capsys.readouterr().err
    assert cli.main(["gradients", "vae", str(trained), "--num-batches", "1000",
                     "--repeats", "2", "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert "fewer than 1000 batches of 50" in error and error.count("\n") == 1
    missing = tmp_path / "missing.json"
    assert cli.main(["gradients", "vae", str(missing), "--output", str(output)]) == 2
    assert not output.exists()


def test_summarize_gathers_the_rows_and_adds_the_vae_item(trained, tmp_path):
    from tests.gradients.test_summary import _table

    runs = []
    for family, value in (("gs", 2.0), ("igr_i", 1.0)):
        row = dict.fromkeys(gradient_vae.COLUMNS, 0.0)
        row.update(dataset="digits", architecture="nonlinear", family=family, seed=1,
                   objective="relaxed", relative_variance=value, relative_variance_se=0.01,
                   kl_per_variable=0.5, temperature=0.5, train_record="x")
        path = tmp_path / f"{family}.json"
        path.write_text(json.dumps({"study": "gradients_vae", "row": row}))
        runs.append(str(path))
    table = tmp_path / "toy.csv"
    _table({0.25: 5.0, 1.0: 5.0}).to_csv(table, index=False)
    out = tmp_path / "out"
    arguments = ["gradients", "summarize", str(table), "--figure", str(out / "f.png"),
                 "--claims", str(out / "claims.md"), "--vae-runs", *runs]
    assert cli.main(arguments) == 2  # --vae-table missing
    assert cli.main([*arguments, "--vae-table", str(out / "vae.csv")]) == 0
    gathered = pd.read_csv(out / "vae.csv")
    assert list(gathered.columns) == list(gradient_vae.COLUMNS) and len(gathered) == 2
    claims = (out / "claims.md").read_text()
    line = next(x for x in claims.splitlines() if "trained VAEs (digits, nonlinear)" in x)
    assert "**inconclusive**" in line and "at least 2 needed" in line  # one seed each
    # collapsed posterior: not assessable
    collapsed = json.loads(open(runs[1]).read())
    collapsed["row"]["kl_per_variable"] = 0.001
    open(runs[1], "w").write(json.dumps(collapsed))
    assert cli.main([*arguments, "--vae-table", str(out / "vae.csv")]) == 0
    line = next(x for x in (out / "claims.md").read_text().splitlines()
                if "trained VAEs (digits, nonlinear)" in x)
    assert "**not assessable**" in line and "posterior collapse" in line
