"""Figure helpers shared by the pipeline stages: headless backend, names, atomic saving."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: jobs run without a display (cluster nodes, CI)

import matplotlib.pyplot as plt  # noqa: E402

from igr.families import FAMILIES, family_label  # noqa: E402, F401 (family_label re-exported)
from igr.io import atomic_path  # noqa: E402

#: One fixed colour per family (from the registry) so that every figure of the report agrees.
FAMILY_COLORS: dict[str, str] = {name: f.colour for name, f in FAMILIES.items()}


def save_figure(figure: "plt.Figure", path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Save ``figure`` to ``path`` atomically (format from the suffix) and close it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, bbox_inches="tight")
    plt.close(figure)
