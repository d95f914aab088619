"""Shared plumbing of the ``igr`` subcommands: command groups such as ``igr vae <command>``.

A stage's commands come from two layers: ``igr vae train`` and ``igr vae evaluate`` from
:mod:`igr.experiments.vae`, ``igr vae summarize`` from :mod:`igr.reporting.vae`. Each module
asks for the group with :func:`command_group`, which creates it on first use, so neither
layer imports the other.
"""

from __future__ import annotations

import argparse


def command_group(
    subparsers: argparse._SubParsersAction, name: str, **parser_options
) -> argparse._SubParsersAction:
    """The subcommands of group ``name`` under ``subparsers``, created on first use.

    ``parser_options`` (help, description, ...) apply when the group is created.
    """
    group = subparsers.choices.get(name)
    if group is None:
        group = subparsers.add_parser(name, **parser_options)
        return group.add_subparsers(title="commands", metavar="<command>", required=True)
    return next(a for a in group._actions if isinstance(a, argparse._SubParsersAction))
