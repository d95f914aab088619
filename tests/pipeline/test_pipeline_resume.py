"""A result is what its record says, end to end: after the default run, a changed VAE
temperature retrains from scratch (the old run moved aside), more epochs resume, and a
moved data folder plans nothing."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from pipeline_helpers import CORES, default_config, planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow

RUN = "results/vae/codes/nonlinear/igr_i/seed5328"


@pytest.fixture()
def copied_run(default_run, tmp_path):
    """A copy of the finished default run (results, logs and Snakemake's metadata)."""
    source, _ = default_run
    workdir = tmp_path / "igr"
    shutil.copytree(source, workdir, symlinks=True,
                    ignore=shutil.ignore_patterns("locks", "incomplete", "report*.html"))
    return workdir


def test_moving_the_data_folder_plans_no_job(copied_run, tmp_path):
    moved = tmp_path / "moved-data"
    moved.mkdir()
    by_env = snakemake(copied_run, "--dry-run", env={"IGR_DATA_DIR": str(moved)})
    assert by_env.returncode == 0, by_env.output
    assert planned_jobs(by_env.output) == [], by_env.output
    config = default_config(copied_run)
    config["data"]["dir"] = str(moved)
    by_config = snakemake(copied_run, "--dry-run", "--configfile",
                          str(write_config(tmp_path / "moved.yaml", config)))
    assert by_config.returncode == 0, by_config.output
    assert planned_jobs(by_config.output) == [], by_config.output


def test_changed_temperature_retrains_fresh_and_more_epochs_resume(copied_run, tmp_path):
    config = default_config(copied_run)
    original_epochs = config["vae"]["epochs"]
    config["vae"]["temperatures"]["igr_i"] = 0.4
    changed = write_config(tmp_path / "changed.yaml", config)
    target = f"{RUN}/train.json"
    planned = planned_jobs(snakemake(copied_run, "--dry-run", "--configfile", str(changed)).output)
    assert planned == sorted([
        "all", "summarize_vae", "report_pages",
        "train_vae[dataset=codes, architecture=nonlinear, family=igr_i, seed=5328]",
        "evaluate_vae[dataset=codes, architecture=nonlinear, family=igr_i, seed=5328]",
        # the gradient stage reads the retrained run's final checkpoint
        "vae_encoder_gradients[dataset=codes, architecture=nonlinear, family=igr_i, seed=5328]",
        "summarize_gradients",
    ])
    done = snakemake(copied_run, target, "--cores", str(CORES), "--configfile", str(changed))
    assert done.returncode == 0, done.output
    record = json.loads((copied_run / target).read_text())
    assert record["settings"]["temperature"] == 0.4
    assert record["training"]["resumed_from_epoch"] == 0
    assert record["run_start"]["action"] == "restarted"
    calibrated = json.loads((copied_run / "results/temperatures/igr_i_K10.json").read_text())
    change = f"model.temperature: {calibrated['temperature']} -> 0.4"
    assert record["run_start"]["differences"] == [change]
    assert record["temperature_source"] == {"kind": "given"}
    stale = list((copied_run / RUN).glob("run.stale-*"))
    assert len(stale) == 1 and (stale[0] / "checkpoints" / "checkpoint").is_file()
    log = (copied_run / "logs" / "train_vae" / "codes_nonlinear_igr_i_seed5328.log").read_text()
    assert change in log and "starting fresh" in log

    config["vae"]["epochs"] = original_epochs + 2
    longer = write_config(tmp_path / "longer.yaml", config)
    done = snakemake(copied_run, target, "--cores", str(CORES), "--configfile", str(longer))
    assert done.returncode == 0, done.output
    extended = json.loads((copied_run / target).read_text())
    assert extended["run_start"]["action"] == "resumed"
    assert extended["training"]["resumed_from_epoch"] == original_epochs
    assert extended["fingerprint"] == record["fingerprint"]
    history = pd.read_csv(copied_run / RUN / "history.csv")
    assert history["epoch"].tolist() == list(range(1, original_epochs + 3))
    assert len(list((copied_run / RUN).glob("run.stale-*"))) == 1
