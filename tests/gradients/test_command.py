"""``igr gradients toy``: writes the table and its record, rejects bad input in one line
(:func:`igr.cli.main` in-process)."""

import argparse

import pandas as pd
import pytest

from igr import cli
from igr.experiments import gradient_study as study

MODULE = "igr.experiments.gradient_study"


@pytest.fixture
def igr():
    assert MODULE in cli.STAGE_MODULES
    return cli.main


TINY = ["--num-draws", "60", "--blocks", "3", "--categories", "3", "--temperatures", "1.0",
        "--exact-draws", "200", "--families", "gs", "igr_sb"]


def test_command_writes_the_table_and_its_record(igr, tmp_path, capsys):
    import json

    output = tmp_path / "gradients" / "toy.csv"
    assert igr(["gradients", "toy", "--output", str(output), *TINY]) == 0
    frame = pd.read_csv(output)
    assert tuple(frame.columns) == study.COLUMNS
    assert len(frame) == 2 * ((4 + 1) + (1 + 1))  # 2 objectives; gs 4 + 1, igr_sb 1 + 1 rows
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["rows"] == len(frame) and record["columns"] == study.COLUMN_DESCRIPTIONS
    assert record["settings"]["categories"] == [3] and record["settings"]["num_draws"] == 60
    assert "packages" in record["provenance"] and record["seconds"] > 0
    assert record["exact_methods"] == ["exact", "monte_carlo (200 draws)"]
    assert str(output) in capsys.readouterr().out
    assert sorted(p.name for p in output.parent.iterdir()) == ["toy.csv", "toy.json"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--temperatures", "0.5", "-1"], "--temperatures: every temperature must be"),
        (["--temperatures", "0"], "--temperatures: every temperature must be"),
        (["--categories", "1"], "--categories: every K must be >= 2"),
        (["--num-draws", "5"], "--num-draws: must be >="),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    igr, tmp_path, capsys, options, message
):
    output = tmp_path / "toy.csv"
    assert igr(["gradients", "toy", "--output", str(output), *TINY, *options]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"igr gradients toy: error: {message}")
    assert error.count("\n") == 1 and "Traceback" not in error
    assert not output.exists() and not output.with_suffix(".json").exists()


def test_output_that_is_a_folder_is_refused(igr, tmp_path, capsys):
    assert igr(["gradients", "toy", "--output", str(tmp_path), *TINY]) == 2
    assert "is an existing folder" in capsys.readouterr().err


def test_every_option_has_help_and_shows_its_default(igr):
    from igr.commands import subcommand_parsers

    parser = cli.build_parser()
    toy = parser._subparsers._group_actions[0].choices["gradients"]
    missing, hidden = [], []
    for command in subcommand_parsers(toy):
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                missing.append(action.dest)
            elif (action.option_strings and not action.required
                  and action.default not in (None, False) and "default" not in action.help):
                shown = f"(default: {action.default})".replace("[", "").replace("]", "")
                if f"(default: {action.default})" not in text and shown not in text:
                    hidden.append(action.dest)
    assert missing == [] and hidden == []
    help_text = toy.format_help()
    assert "toy" in help_text


def _calibration(path, family, k, tau):
    import json

    path.write_text(json.dumps({"family": family, "num_categories": k, "temperature": tau,
                                "rule": "largest tau ...", "fraction_reached": 0.75}))
    return str(path)


def test_temperature_files_add_calibrated_rows_and_are_recorded(igr, tmp_path):
    import json

    output = tmp_path / "toy.csv"
    files = [_calibration(tmp_path / "gs.json", "gs", 3, 0.4),
             _calibration(tmp_path / "sb.json", "igr_sb", 3, 0.2)]
    assert igr(["gradients", "toy", "--output", str(output), *TINY,
                "--temperature-files", *files]) == 0
    frame = pd.read_csv(output)
    calibrated = frame[frame.temperature_kind == "calibrated"]
    assert len(calibrated) == 2 * (4 + 1)
    assert set(calibrated.temperature) == {0.4, 0.2}
    record = json.loads(output.with_suffix(".json").read_text())
    assert [c["file"] for c in record["calibrations"]] == files
    assert all(len(c["sha256"]) == 64 for c in record["calibrations"])


@pytest.mark.parametrize(
    "family, k, message",
    [("igr_i", 3, "not in the study"), ("gs", 5, "not in the study")],
)
def test_temperature_file_outside_the_study_exits_2(igr, tmp_path, capsys, family, k, message):
    output = tmp_path / "toy.csv"
    path = _calibration(tmp_path / "c.json", family, k, 0.4)
    assert igr(["gradients", "toy", "--output", str(output), *TINY,
                "--temperature-files", path]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and not output.exists()


def test_temperature_file_that_is_no_calibration_exits_2(igr, tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text('{"something": 1}')
    output = tmp_path / "toy.csv"
    assert igr(["gradients", "toy", "--output", str(output), *TINY,
                "--temperature-files", str(path)]) == 2
    assert "not a record of igr calibrate-temperature" in capsys.readouterr().err
