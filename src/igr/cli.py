"""The `igr` console script: one subcommand per pipeline stage.

Each stage module exposes ``add_parser(subparsers)``, which registers its subcommand and
sets ``func`` (called with the parsed namespace) as the parser default. ``igr <command>``
imports only the modules that register <command> (:func:`modules_for`), and no stage module
imports TensorFlow at import time, so ``igr --help`` and ``igr --version`` stay fast.

At start-up the console script sets ``TF_USE_LEGACY_KERAS=1`` unless the user set it:
igr uses ``tf_keras`` (Keras 2) only, and without the variable ``import tensorflow`` also
imports Keras 3 and, through its scikit-learn wrapper, scikit-learn: about 2 of the 8
seconds every TensorFlow job spends importing on the 2-core CPU (README, "Benchmarks").
It then imports ``tensorflow_probability`` before anything imports TensorFlow: imported
after TensorFlow, TFP also loads ``tfp.experimental`` and ``tfp.layers`` at once (for
SavedModel registrations igr does not use), 0.1-0.4 s of every TFP job; imported first, it
loads each subpackage on first use.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from igr import __version__
from igr.commands import document
from igr.quiet import quiet_tensorflow

#: The modules that register subcommands, in the order of ``igr --help``, each with the
#: top-level commands it registers (tests/test_cli.py checks this table against the modules).
#: Each stage has an experiment module (it computes) and a reporting module (it summarises).
STAGE_COMMANDS: dict[str, tuple[str, ...]] = {
    "igr.data.cli": ("data",),
    "igr.experiments.priors": ("learn-prior",),
    "igr.reporting.priors": ("summarize-priors",),
    "igr.experiments.temperatures": ("calibrate-temperature",),
    "igr.experiments.simplex_proximity": ("simplex-proximity",),
    "igr.reporting.simplex_proximity": ("summarize-simplex-proximity",),
    "igr.experiments.approximations": ("approximate",),
    "igr.reporting.approximations": ("summarize-approximations",),
    "igr.experiments.sop": ("sop",),
    "igr.reporting.sop": ("sop",),
    "igr.experiments.vae": ("vae",),
    "igr.reporting.vae": ("vae",),
    "igr.experiments.gradient_study": ("gradients",),
    "igr.experiments.gradient_vae": ("gradients",),
    "igr.reporting.gradients": ("gradients",),
    "igr.reporting.pages": ("report",),
}
STAGE_MODULES: tuple[str, ...] = tuple(STAGE_COMMANDS)


def modules_for(argv: list[str]) -> tuple[str, ...]:
    """The stage modules that ``igr argv...`` needs: those registering the command that
    ``argv`` starts with, else all of them (``--help``, ``--version``, an unknown command,
    whose usage error lists every command).

    Importing every stage module cost each job 0.4-0.6 s on the 2-core CPU (matplotlib,
    pandas and the other stages' imports; README, "Benchmarks").
    """
    first = argv[0] if argv else None
    return tuple(m for m, commands in STAGE_COMMANDS.items() if first in commands) or STAGE_MODULES


def build_parser(modules: tuple[str, ...] = STAGE_MODULES) -> argparse.ArgumentParser:
    """The ``igr`` parser with the subcommands of ``modules`` (default: every stage)."""
    parser = argparse.ArgumentParser(
        prog="igr",
        description=(
            "Invertible Gaussian Reparameterization (NeurIPS 2020): run one stage of the "
            "pipeline that rebuilds the paper's tables and figures."
        ),
    )
    parser.add_argument("--version", action="version", version=f"igr {__version__}")
    subparsers = parser.add_subparsers(title="stages", metavar="<stage>")
    for module_name in modules:
        importlib.import_module(module_name).add_parser(subparsers)
    document(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Bad input (:class:`igr.errors.InputError`, or a dataset file that
    is missing or unreadable) is reported as one line on stderr with exit status 2."""
    from igr.data.errors import DatasetError
    from igr.errors import EXIT_BAD_INPUT, InputError

    parser = build_parser(modules_for(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    if argv is None:  # the console script, not a call from Python
        quiet_tensorflow()
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # module docstring
        if "tensorflow" not in sys.modules:
            import tensorflow_probability  # noqa: F401 (lazy; before TensorFlow: docstring)
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
