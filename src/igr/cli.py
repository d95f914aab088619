"""The `igr` console script: one subcommand per pipeline stage.

Each stage module exposes ``add_parser(subparsers)``, which registers its subcommand and
sets ``func`` (called with the parsed namespace) as the parser default. Modules are imported
lazily so that ``igr --help`` and ``igr --version`` stay fast (TensorFlow is not imported).

At start-up the console script sets ``TF_USE_LEGACY_KERAS=1`` unless the user set it:
igr uses ``tf_keras`` (Keras 2) only, and without the variable ``import tensorflow`` also
imports Keras 3 and, through its scikit-learn wrapper, scikit-learn: about 2 of the 8
seconds every TensorFlow job spends importing on the 2-core CPU (README, "Benchmarks").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from igr import __version__
from igr.commands import document
from igr.quiet import quiet_tensorflow

#: Modules that register a subcommand, in the order they appear in ``igr --help``.
#: Each stage has an experiment module (it computes) and a reporting module (it summarises).
STAGE_MODULES: tuple[str, ...] = (
    "igr.data.cli",
    "igr.experiments.priors",
    "igr.reporting.priors",
    "igr.experiments.temperatures",
    "igr.experiments.simplex_proximity",
    "igr.reporting.simplex_proximity",
    "igr.experiments.approximations",
    "igr.reporting.approximations",
    "igr.experiments.sop",
    "igr.reporting.sop",
    "igr.experiments.vae",
    "igr.reporting.vae",
    "igr.experiments.gradient_study",
    "igr.experiments.gradient_vae",
    "igr.reporting.gradients",
    "igr.reporting.pages",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="igr",
        description=(
            "Invertible Gaussian Reparameterization (NeurIPS 2020): run one stage of the "
            "pipeline that rebuilds the paper's tables and figures."
        ),
    )
    parser.add_argument("--version", action="version", version=f"igr {__version__}")
    subparsers = parser.add_subparsers(title="stages", metavar="<stage>")
    for module_name in STAGE_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    document(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Bad input (:class:`igr.errors.InputError`, or a dataset file that
    is missing or unreadable) is reported as one line on stderr with exit status 2."""
    from igr.data.errors import DatasetError
    from igr.errors import EXIT_BAD_INPUT, InputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    if argv is None:  # the console script, not a call from Python
        quiet_tensorflow()
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # module docstring
    try:
        return int(args.func(args) or 0)
    except (InputError, DatasetError) as error:
        print(f"{command_name(parser, argv)}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def command_name(parser: argparse.ArgumentParser, argv: list[str] | None) -> str:
    """``igr vae train``: the program and the subcommands named on the command line."""
    names = [parser.prog]
    for token in sys.argv[1:] if argv is None else argv:
        choices = next(
            (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)),
            None,
        )
        if not choices or token not in choices:
            break
        names.append(token)
        parser = choices[token]
    return " ".join(names)


if __name__ == "__main__":
    sys.exit(main())
