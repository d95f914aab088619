"""Figure helpers shared by the pipeline stages: headless backend, names, atomic saving."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: jobs run without a display (cluster nodes, CI)

import matplotlib.pyplot as plt  # noqa: E402

from igr.io import atomic_path  # noqa: E402

#: How each family is named in figures and tables.
FAMILY_LABELS: dict[str, str] = {
    "gs": "GS",
    "igr_i": "IGR-I",
    "igr_planar": "IGR-Planar",
    "igr_sb": "IGR-SB",
}

#: One fixed colour per family so that every figure of the report agrees.
FAMILY_COLORS: dict[str, str] = {
    "gs": "#4c72b0",
    "igr_i": "#dd8452",
    "igr_planar": "#55a868",
    "igr_sb": "#c44e52",
}


def family_label(family: str) -> str:
    """Display name of a family identifier (``igr_i`` -> ``IGR-I``)."""
    return FAMILY_LABELS.get(family, family)


def save_figure(figure: "plt.Figure", path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Save ``figure`` to ``path`` atomically (format from the suffix) and close it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    plt.close(figure)
