"""``igr data``: fetch and inspect datasets outside the pipeline (and inside it, from a rule).

    igr data list
    igr data info NAME [--data-dir DIR]
    igr data fetch NAME [--data-dir DIR] [--manifest FILE] [--retries N] [--timeout S] [--quiet]

The data directory is ``--data-dir``, else ``$IGR_DATA_DIR``, else ``resources/data``.
TensorFlow is never imported here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from igr.data.paths import DATA_DIR_ENV_VAR, DEFAULT_DATA_DIR


def add_parser(subparsers) -> None:
    """Register ``igr data`` and its subcommands."""
    from igr.data.registry import DATASETS

    names = sorted(DATASETS)
    data = subparsers.add_parser(
        "data",
        help="fetch, verify and describe datasets",
        description=(
            f"Datasets live under the data directory: --data-dir, else ${DATA_DIR_ENV_VAR}, "
            f"else {DEFAULT_DATA_DIR} (relative to the working directory)."
        ),
    )
    data.set_defaults(func=lambda args: (data.print_help(), 0)[1])
    commands = data.add_subparsers(title="commands", metavar="<command>")

    listing = commands.add_parser("list", help="list the registered datasets")
    listing.set_defaults(func=run_list)

    info = commands.add_parser(
        "info",
        help="describe a dataset and check its files",
        description=(
            "Describe a dataset and check each of its files. Exit status 0 when every file is "
            "present and verifies, 1 when one is missing or corrupted (like sha256sum -c)."
        ),
    )
    info.add_argument("name", choices=names, metavar="NAME", help=", ".join(names))
    info.add_argument(
        "--data-dir",
        default=None,
        help=f"data directory (default: ${DATA_DIR_ENV_VAR} or {DEFAULT_DATA_DIR})",
    )
    info.set_defaults(func=run_info)

    fetch = commands.add_parser(
        "fetch",
        help="download a dataset's missing files and verify them",
        description=(
            "Download every missing or damaged file of the dataset from its canonical sources "
            "(sha256-verified, resumed and retried), then verify the whole dataset. Files that "
            "are present and verify are not fetched again. Exit status 1 with an explanation "
            "when the data cannot be obtained."
        ),
    )
    fetch.add_argument("name", choices=names, metavar="NAME", help=", ".join(names))
    fetch.add_argument(
        "--data-dir",
        default=None,
        help=f"data directory (default: ${DATA_DIR_ENV_VAR} or {DEFAULT_DATA_DIR})",
    )
    fetch.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="write a JSON record of the verified files here (for pipeline rules)",
    )
    fetch.add_argument("--retries", type=int, default=5, help="attempts per mirror (default 5)")
    fetch.add_argument(
        "--backoff",
        type=float,
        default=1.0,
        help="first retry delay in seconds, doubled each retry (default 1)",
    )
    fetch.add_argument(
        "--timeout", type=float, default=60.0, help="socket timeout in seconds (default 60)"
    )
    fetch.add_argument("--quiet", action="store_true", help="no progress output")
    fetch.set_defaults(func=run_fetch)


def run_list(args: argparse.Namespace) -> int:
    from igr.data.registry import DATASETS

    for spec in DATASETS.values():
        print(f"{spec.name:15s} {spec.title}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from igr.data.errors import FileFormatError
    from igr.data.loading import advice_for, inspect_files
    from igr.data.paths import resolve_data_dir
    from igr.data.registry import get_spec

    spec = get_spec(args.name)
    root = resolve_data_dir(args.data_dir)
    h, w, c = spec.image_shape
    print(f"{spec.name}: {spec.title}")
    print(f"  source:   {spec.source}")
    print(f"  licence:  {spec.licence}")
    print(
        f"  images:   {spec.num_train:,} train / {spec.num_test:,} test, {h}x{w}x{c}"
        + (f", {spec.num_classes} classes" if spec.num_classes else ", no labels")
    )
    print(
        f"  default:  {'binarised at 0.5 (Bernoulli)' if spec.binarize_by_default else 'grey levels in [0, 1] (Gaussian)'}"
    )
    if spec.bundled_with:
        print(f"  files:    none; bundled with the {spec.bundled_with} package")
    else:
        print(f"  folder:   {spec.folder_in(root)}")
    all_usable = True
    for status in inspect_files(spec, root):
        file = status.file
        print(
            f"  - {file.name}: {status.state}"
            + (f" ({status.path} {status.problem})" if status.problem else "")
        )
        if file.sha256:
            print(
                f"      sha256 of content: {file.sha256}"
                + (f", {file.size:,} bytes" if file.size else "")
            )
        else:
            print(
                "      sha256 of content: not registered (unknown upstream); format and image counts are checked"
            )
        for url in file.urls:
            print(f"      {url}")
        all_usable &= status.usable
    if spec.check_folder is not None:
        try:
            spec.check_folder(spec.folder_in(root))
        except FileFormatError as exc:
            print(f"  - {exc.file_name}: {exc.phrase}")
            all_usable = False
        else:
            print("  - images: present (each is checked when read)")
    if spec.manual_download:
        print(f"  manual download: {advice_for(spec, root)}")
    elif not all_usable:
        print(f"  {advice_for(spec, root)}")
    # Like `sha256sum -c`: the report is printed either way, the status says whether it passed.
    return 0 if all_usable else 1


def run_fetch(args: argparse.Namespace) -> int:
    from igr.data.download import RetryPolicy
    from igr.data.errors import DatasetError
    from igr.data.fetch import fetch_dataset, write_manifest
    from igr.data.paths import resolve_data_dir
    from igr.data.registry import get_spec

    spec = get_spec(args.name)
    root = resolve_data_dir(args.data_dir)
    policy = RetryPolicy(
        attempts=max(1, args.retries), backoff_seconds=args.backoff, timeout_seconds=args.timeout
    )
    try:
        outcomes = fetch_dataset(
            spec, root, policy=policy, progress=not args.quiet, quiet=args.quiet
        )
    except (DatasetError, OSError) as exc:  # OSError: e.g. a data directory that is not writable
        print(f"igr data fetch: {exc}", file=sys.stderr)
        return 1
    if args.manifest is not None:
        write_manifest(args.manifest, spec, root, outcomes)
    return 0
