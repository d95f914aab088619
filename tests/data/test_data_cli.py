"""Data directory resolution and the `igr data list|info` commands (no network, no real data)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from igr.cli import main as igr_main
from igr.data.paths import DEFAULT_DATA_DIR, resolve_data_dir


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("IGR_DATA_DIR", raising=False)
    assert resolve_data_dir() == DEFAULT_DATA_DIR == Path("resources/data")
    monkeypatch.setenv("IGR_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_list_and_info_without_data(tmp_path, capsys):
    assert igr_main(["data", "list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["mnist", "fashion-mnist", "omniglot", "celeba", "digits", "codes"]

    # A missing file: the report is printed and the status is 1 (like sha256sum -c).
    assert igr_main(["data", "info", "omniglot", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "24,345 train / 8,070 test, 28x28x1, 50 classes" in out
    assert "chardata.mat: missing" in out
    assert "https://raw.githubusercontent.com/yburda/iwae/master/datasets/OMNIGLOT/chardata.mat" in out
    assert f"igr data fetch omniglot --data-dir {tmp_path}" in out

    assert igr_main(["data", "info", "digits"]) == 0
    assert "1,500 train / 297 test, 8x8x1, 10 classes" in capsys.readouterr().out
    assert igr_main(["data", "info", "codes"]) == 0
    assert "10,000 train / 1,000 test, 16x16x1, 10 classes" in capsys.readouterr().out


def test_fetch_of_a_manual_dataset_explains_itself(tmp_path, capsys):
    assert igr_main(["data", "fetch", "celeba", "--data-dir", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "celeba" / "list_eval_partition.txt") in err
    assert "cannot be fetched automatically" in err and "img_align_celeba.zip" in err


def test_help_does_not_import_tensorflow():
    code = (
        "import argparse, sys; import igr.data.cli as c; "
        "c.add_parser(argparse.ArgumentParser().add_subparsers()); "
        "assert 'tensorflow' not in sys.modules and 'scipy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
