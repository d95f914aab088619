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


def test_readme_rule_table_names_real_commands_and_every_rule():
    """Each `igr ...` command of the README's rule table parses, and every rule is listed."""
    import argparse
    import re
    from pathlib import Path

    from igr.cli import build_parser

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Rules and their commands", 1)[1].split("\n\n", 2)[1]
    commands = re.findall(r"`(igr [a-z -]+)`", table)
    listed_rules = set(re.findall(r"`([a-z_]+)`", table))
    assert len(commands) >= 14, table
    parser = build_parser()
    for command in commands:
        current = parser
        for word in command.split()[1:]:
            action = next(a for a in current._actions if isinstance(a, argparse._SubParsersAction))
            assert word in action.choices, f"README names {command!r}; {word!r} is not a command"
            current = action.choices[word]
    rules = set()
    for path in (root / "rules").glob("*.smk"):
        rules |= set(re.findall(r"^rule ([a-z_]+):", path.read_text(), re.M))
    assert rules <= listed_rules, f"rules missing from the README table: {rules - listed_rules}"


def test_every_option_of_every_command_has_help_and_shows_its_default():
    import argparse

    from igr.commands import subcommand_parsers

    missing, no_default_shown = [], []
    for command in subcommand_parsers(build_parser()):
        text = " ".join(command.format_help().split())
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction,
                                   argparse._VersionAction)):
                continue
            if not action.help:
                missing.append(f"{command.prog} {action.dest}")
            elif (action.option_strings and not action.required
                  and action.default not in (None, False, argparse.SUPPRESS)
                  and "default" not in action.help):
                shown = f"(default: {action.default})".replace("[", "").replace("]", "")
                if f"(default: {action.default})" not in text and shown not in text:
                    no_default_shown.append(f"{command.prog} {action.option_strings[0]}")
    assert missing == [], f"options without help: {missing}"
    assert no_default_shown == [], f"defaults not shown: {no_default_shown}"


def test_stage_command_table_names_what_each_module_registers():
    import argparse
    import importlib

    from igr.cli import STAGE_COMMANDS

    for module_name, commands in STAGE_COMMANDS.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module_name).add_parser(subparsers)
        assert tuple(subparsers.choices) == commands, module_name


def test_a_command_imports_only_the_modules_that_register_it():
    """`igr learn-prior ...` builds its parser without the other stages' imports (matplotlib
    among them); help, version and unknown commands still see every command."""
    from igr.cli import STAGE_MODULES, modules_for

    assert modules_for(["vae", "train", "--seed", "1"]) == (
        "igr.experiments.vae", "igr.reporting.vae")
    assert modules_for(["gradients", "toy"]) == (
        "igr.experiments.gradient_study", "igr.experiments.gradient_vae",
        "igr.reporting.gradients")
    for argv in ([], ["--help"], ["--version"], ["no-such-stage"]):
        assert modules_for(argv) == STAGE_MODULES
    code = (
        "import sys\n"
        "from igr.cli import build_parser, modules_for\n"
        "for command in ('learn-prior', 'approximate', 'vae', 'sop', 'gradients'):\n"
        "    build_parser(modules_for([command]))\n"
        "print(sorted(m for m in ('matplotlib.pyplot', 'igr.reporting.pages', 'tensorflow')\n"
        "             if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_command_parses_the_same_with_its_modules_only():
    from igr.cli import modules_for

    argv = ["learn-prior", "--family", "gs", "--num-categories", "3", "--output", "p.json"]
    assert vars(build_parser(modules_for(argv)).parse_args(argv)) == vars(
        build_parser().parse_args(argv))
