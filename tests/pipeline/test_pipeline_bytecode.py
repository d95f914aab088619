"""igr.pipeline.bytecode: the cache the onstart handler writes before the first job."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from igr.pipeline.bytecode import compile_igr, package_dir


def test_cache_is_written_even_with_bytecode_writing_off(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    (tmp_path / "stage.py").write_text("VALUE = 41 + 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.py").write_text("NAME = 'inner'\n")
    assert compile_igr(tmp_path) is True
    for source in (tmp_path / "stage.py", tmp_path / "sub" / "inner.py"):
        assert Path(importlib.util.cache_from_source(str(source))).is_file()


def test_a_module_that_does_not_compile_is_reported_not_raised(tmp_path):
    (tmp_path / "good.py").write_text("x = 1\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    assert compile_igr(tmp_path) is False
    assert Path(importlib.util.cache_from_source(str(tmp_path / "good.py"))).is_file()


def test_default_folder_is_the_imported_package():
    import igr

    assert package_dir() / "__init__.py" == Path(igr.__file__).resolve()
