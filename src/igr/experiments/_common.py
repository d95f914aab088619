"""Small helpers shared by the stage modules: divergences to uniform, vertex distances,
seeds, TF threads, argparse types."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence

import numpy as np

from igr.families import FAMILIES

#: Stable integer per family, used to derive per-family seeds: adding or removing a family
#: from a config never changes the random numbers another family sees.
FAMILY_SEED_OFFSETS: dict[str, int] = {name: f.seed_offset for name, f in FAMILIES.items()}

#: How IGR-Planar draws lambda (igr.distributions.igr_gaussian: the Box-Muller GaussianBase and
#: the one-pass lambda law); part of the fingerprint of IGR-Planar runs, whose random numbers
#: changed with it, so an older IGR-Planar run folder starts afresh instead of resuming.
PLANAR_DRAWS = "Box-Muller Gaussian base, one-pass lambda law"


def draws_identity(family: str) -> dict[str, str]:
    """What a run's fingerprint names about how ``family`` draws: ``{"planar_draws": ...}``
    for a planar family, else nothing (every other family keeps its identity)."""
    return {"planar_draws": PLANAR_DRAWS} if FAMILIES[family].planar else {}


def divergences_from_uniform(probabilities: Sequence[float]) -> dict[str, float]:
    """Divergences between the uniform law u = 1/K and a pmf p over K categories.

    - ``kl_uniform_to_learned`` = KL(u || p) = sum_k u_k log(u_k / p_k)
      (infinite when some p_k = 0, i.e. a category can never win);
    - ``total_variation`` = (1/2) sum_k |p_k - u_k|.

    ``p`` is renormalised to sum 1 in float64 first, which removes the float32 rounding of
    its sum (otherwise KL can come out as -1e-8); a sum off by more than 1e-4 is an error.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    total = float(np.sum(p))
    if abs(total - 1.0) > 1e-4 or np.any(p < 0):
        raise ValueError(f"argmax probabilities are not a pmf (sum {total}): {p.tolist()}")
    p = p / total
    num_categories = p.shape[-1]
    u = 1.0 / num_categories
    with np.errstate(divide="ignore"):
        kl = float(np.sum(u * (np.log(u) - np.log(p))))
    return {
        "kl_uniform_to_learned": kl if math.isfinite(kl) else math.inf,
        "total_variation": float(0.5 * np.sum(np.abs(p - u))),
    }


def distance_to_argmax_vertex(psi: np.ndarray) -> np.ndarray:
    """``|| psi - e_{argmax psi} ||_2`` over the last axis (a point of the simplex)."""
    psi = np.asarray(psi, dtype=np.float64)
    vertex = np.zeros_like(psi)
    np.put_along_axis(vertex, np.argmax(psi, axis=-1)[..., None], 1.0, axis=-1)
    return np.linalg.norm(psi - vertex, axis=-1)


def configure_threads(threads: int | None) -> None:
    """Limit TensorFlow's thread pools to ``threads`` (the Snakemake job's ``threads``)."""
    if not threads:
        return
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def family_seed(seed: int, family: str) -> tuple[int, int]:
    """Stateless TF seed ``(seed, offset)`` of a family, independent of the other families."""
    return (int(seed), FAMILY_SEED_OFFSETS[family])


def at_least(minimum: int):
    """An argparse type: an integer >= `minimum`, else a usage error naming the value."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


positive_int = at_least(1)
non_negative_int = at_least(0)


def positive_float(text: str) -> float:
    """An argparse type: a float > 0, else a usage error naming the value."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value
