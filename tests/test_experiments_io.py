"""Atomic outputs (igr.io): readers never see a half-written file."""

from __future__ import annotations

import pytest

from igr.io import atomic_path, read_json, write_json_atomic


def test_json_round_trip_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "record.json"
    write_json_atomic(path, {"a": [1.5, 2]})
    assert read_json(path) == {"a": [1.5, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    path = tmp_path / "record.json"
    write_json_atomic(path, {"version": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temporary:
            temporary.write_text("{ half")
            assert temporary.parent == path.parent and temporary.suffix == ".json"
            raise RuntimeError("interrupted")
    assert read_json(path) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]
