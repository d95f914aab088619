"""Shared by the config tests: apply one change to the default config and check it with
igr.pipeline.config, exactly what the Snakefile runs before planning (no Snakemake)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from igr.pipeline.config import config_problems

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
DEFAULT = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
PAPER = yaml.safe_load((REPO_ROOT / "config" / "paper.yaml").read_text())


def with_change(dotted_key: str, value, config: dict = DEFAULT) -> dict:
    """A deep copy of ``config`` with ``dotted_key`` set to ``value``."""
    changed = copy.deepcopy(config)
    *parents, last = dotted_key.split(".")
    section = changed
    for name in parents:
        section = section.setdefault(name, {})
    section[last] = value
    return changed


def assert_rejected(dotted_key: str, value, named: str, reason: str) -> None:
    """The changed default config has a problem naming ``named`` that says ``reason``."""
    problems = config_problems(with_change(dotted_key, value), SCHEMA, environ={})
    lines = [problem for problem in problems if named in problem]
    assert lines, f"no message names {named}: {problems}"
    assert any(reason in line for line in lines), problems
