"""What each relaxed family *is*: one TF-free record per family.

A record names the family, the label figures use, the family whose prior file it reads
(IGR-Planar reads IGR-I's prior, spec 1.4; truncated IGR-SB reads IGR-SB's at K_max), how
its prior file stores its parameters, whether its argmax law is exact, and which stages
accept it. Nothing here imports TensorFlow, so the CLI and the pipeline can read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One relaxed categorical family.

    ``prior_parameters`` are the keys of its prior file that hold arrays, each of length
    ``K`` (GS logits) or ``K - 1`` (the Gaussian loc and scale of the IGR families).
    """

    name: str
    label: str
    prior_family: str
    prior_parameters: tuple[str, ...]
    exact_argmax: bool
    stages: tuple[str, ...]

    def prior_length(self, num_categories: int) -> int:
        """Length of each prior parameter array for K categories."""
        return num_categories if self.prior_parameters == ("logits",) else num_categories - 1


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("gs", "GS", "gs", ("logits",), True, ("priors", "simplex_proximity", "vae", "sop")),
        Family("igr_i", "IGR-I", "igr_i", ("loc", "scale"), True,
               ("priors", "simplex_proximity", "vae", "sop")),
        Family("igr_planar", "IGR-Planar", "igr_i", ("loc", "scale"), False,
               ("priors", "vae", "sop")),
        Family("igr_sb", "IGR-SB", "igr_sb", ("loc", "scale"), False, ("priors", "vae", "sop")),
        Family("igr_sb_trunc", "truncated IGR-SB", "igr_sb", ("loc", "scale"), False, ("vae",)),
    )
}


def get_family(name: str) -> Family:
    """The record of ``name``; a ``KeyError`` naming the known families otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


def families_of_stage(stage: str) -> tuple[str, ...]:
    """Names of the families a stage accepts, in registry order."""
    return tuple(name for name, family in FAMILIES.items() if stage in family.stages)
