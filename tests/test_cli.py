"""The `igr` console script: version, help, and one subcommand per registered stage."""

import subprocess
import sys

import igr
from igr.cli import build_parser


def run_igr(*args):
    return subprocess.run(
        [sys.executable, "-m", "igr", *args], capture_output=True, text=True, timeout=120
    )


def test_version_prints_the_package_version():
    result = run_igr("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"igr {igr.__version__}"


def test_help_lists_every_registered_stage():
    result = run_igr("--help")
    assert result.returncode == 0
    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert {"learn-prior", "summarize-priors", "simplex-proximity", "summarize-simplex-proximity",
            "approximate", "summarize-approximations", "sop", "vae"} <= set(subcommands)
    for name in subcommands:
        assert name in result.stdout
    for group in ("vae", "sop"):  # commands from the experiment and the reporting module
        commands = subcommands[group]._subparsers._group_actions[0].choices
        assert {"train", "evaluate", "summarize"} <= set(commands)


def test_unknown_stage_is_rejected_with_a_usage_error():
    result = run_igr("no-such-stage")
    assert result.returncode == 2
    assert "invalid choice: 'no-such-stage'" in result.stderr
