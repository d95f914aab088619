"""The `igr` console script: one subcommand per pipeline stage.

Each stage module exposes ``add_parser(subparsers)``, which registers its subcommand and
sets ``func`` (called with the parsed namespace) as the parser default. Modules are imported
lazily so that ``igr --help`` and ``igr --version`` stay fast (TensorFlow is not imported).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from igr import __version__

#: Modules that register a subcommand, in the order they appear in ``igr --help``.
STAGE_MODULES: tuple[str, ...] = (
    "igr.data.cli",
    "igr.experiments.priors",
    "igr.experiments.simplex_proximity",
    "igr.experiments.approximations",
    "igr.experiments.sop",
    "igr.experiments.vae",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
