"""What each relaxed family *is*: one TF-free record per family, the one list of families.

A record names the family, the label and colour that tables and figures use, the seed
offset that keeps its random numbers independent of which other families run, the priors
stage file it reads and the family whose prior parameters that file holds (IGR-Planar reads
``igr_planar_K{K}.json``, which holds IGR-I's prior, spec 1.4; truncated IGR-SB reads IGR-SB's
file at K_max), how its prior file stores its parameters, whether its argmax law is exact,
which stages accept it, where XLA compilation was measured to make its VAE steps faster
(:func:`use_xla`, the table behind ``jit_compile: auto``), how the VAE latent and the SOP
units form the value the next network reads and which KL the VAE objective uses
(:data:`FORWARDS`, :data:`KLS`; the baselines ST-GS and ReinMax read GS's prior file and
relaxation, but feed one-hot values forward and use the categorical KL). Python code, the
rules (wildcard constraints) and the config schema (enums, checked by tests/test_families.py)
take their lists from here. Adding a family means one record here plus its distribution
class. Nothing here imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Pipeline stages that train or evaluate families.
STAGES = ("priors", "temperatures", "simplex_proximity", "vae", "sop")


@dataclass(frozen=True)
class Family:
    """One relaxed categorical family.

    ``prior_parameters`` are the keys of its prior file that hold arrays, each of length
    ``K`` (GS logits) or ``K - 1`` (the Gaussian loc and scale of the IGR families).
    ``prior_file`` is the family whose priors-stage file it reads, ``prior_family`` the
    family whose parameters that file holds. ``truncated``: its K is the truncation's K_max.
    ``xla``: the parts of the VAE stage (:data:`XLA_PARTS`) whose compiled step is faster
    with XLA than in graph mode, measured by ``benchmarks/bench_vae.py`` (README table).
    ``forward``: how the VAE latent forms the value the decoder reads from q, and the SOP
    units the value the next layer reads (:mod:`igr.models.sop`), a key of
    :data:`FORWARDS` (``relaxed``: the reparameterised relaxed sample psi; ``st_gs`` and
    ``reinmax``: an exactly one-hot value with a straight-through gradient).
    ``kl``: the KL of the VAE objective, a key of :data:`KLS` (``relaxed``: between the
    relaxed laws of q and the learned prior; ``categorical``: exact, between the categorical
    laws ``Cat(softmax(logits))`` of q and of the prior file's logits, uniform).
    """

    name: str
    label: str
    colour: str | None
    seed_offset: int
    prior_file: str
    prior_family: str
    prior_parameters: tuple[str, ...]
    exact_argmax: bool
    stages: tuple[str, ...]
    truncated: bool = False
    planar: bool = False
    xla: frozenset[str] = frozenset()
    forward: str = "relaxed"
    kl: str = "relaxed"

    def __post_init__(self):
        if self.forward not in FORWARDS:
            raise ValueError(
                f"{self.name}: forward {self.forward!r} is not one of {tuple(FORWARDS)}"
            )
        if self.kl not in KLS:
            raise ValueError(f"{self.name}: kl {self.kl!r} is not one of {tuple(KLS)}")
        if self.kl == "categorical" and self.prior_parameters != ("logits",):
            raise ValueError(f"{self.name}: the categorical KL needs logits")
        if self.forward != "relaxed" and self.kl != "categorical":
            raise ValueError(f"{self.name}: a one-hot forward value has no relaxed density")

    @property
    def igr(self) -> bool:
        """An IGR family: a Gaussian pushed through an invertible map onto the simplex (its
        prior parameters are ``loc`` and ``scale``); the side of the claim "IGR beats GS"."""
        return self.prior_parameters == _GAUSSIAN

    def prior_length(self, num_categories: int) -> int:
        """Length of each prior parameter array for K categories."""
        return num_categories if self.prior_parameters == ("logits",) else num_categories - 1


_GAUSSIAN = ("loc", "scale")

#: How the VAE latent (and an SOP unit, K = 2) forms the value the next network reads
#: (:attr:`Family.forward`), in words.
FORWARDS: dict[str, str] = {
    "relaxed": "the relaxed sample psi ~ q (reparameterised)",
    "st_gs": (
        "one_hot(argmax psi), psi ~ GS(logits, tau); gradient through psi "
        "(straight-through Gumbel-Softmax, Jang et al. 2017)"
    ),
    "reinmax": (
        "D ~ Cat(softmax(logits)), exact; gradient (2 J(pi1) - J(pi0) / 2)^T g, "
        "pi0 = softmax(logits), pi1 = (D + softmax(logits / tau)) / 2 "
        "(ReinMax, Liu et al. 2023, Algorithm 2)"
    ),
}

#: The KL of the VAE objective (:attr:`Family.kl`), in words (tables and records).
KLS: dict[str, str] = {
    "relaxed": "relaxed KL to the learned uniform prior (closed form or one-draw Monte Carlo)",
    "categorical": "categorical KL to the uniform prior (exact)",
}

#: Largest spread of the prior logits of a family with the categorical KL: the discrete
#: bound's p(b) is uniform, K^-V, so the prior that KL is taken to must be uniform too.
UNIFORM_PRIOR_TOLERANCE = 1e-6


def logits_spread(logits) -> float:
    """``max_k l_k - min_k l_k`` of a prior file's logits (a list, or one list per variable);
    0 exactly when every row is uniform."""
    rows = logits if logits and isinstance(logits[0], (list, tuple)) else [logits]
    return max(float(max(row)) - float(min(row)) for row in rows)

#: Measured by ``benchmarks/bench_vae.py`` (2026-12-03, 2-core AMD EPYC, TF 2.21, MNIST
#: nonlinear, batch 100; README "Benchmarks"), with the XLA step's noise drawn outside XLA
#: (:mod:`igr.training.compiled`): the XLA training step over the graph-mode one, median
#: steps/s. At 14:35 (15 rounds x 40 steps): GS 1.13, IGR-I 1.15, IGR-Planar 1.12, IGR-SB
#: 1.12, truncated IGR-SB 1.11. At 17:55 (the same, the baselines added): GS 1.18, IGR-I
#: 1.13, IGR-Planar 1.04, IGR-SB 1.16, truncated IGR-SB 1.18, ST-GS 1.15, ReinMax 1.22
#: (the baselines' inter-quartile ranges apart), and in a rerun at 18:10 (10 rounds x 30
#: steps) ST-GS 1.17, ReinMax 1.18. No family was slower with XLA in any run, so every
#: family trains with XLA. The bound (evaluation) is 2.5-4x slower
#: with XLA for every family measured (GS, IGR-I, truncated IGR-SB at S = 100): it stays in
#: graph mode everywhere.
#:
#: The bound's elementwise kernels compiled with XLA inside the graph-mode bound (part
#: ``bound_kernels``; the same bench, 3 interleaved repeats on 1,000 test images, seconds
#: graph -> kernels): the Bernoulli log-likelihood for every family (GS S = 1,000: 18.1 ->
#: 16.3, S = 100: 1.33 -> 1.21), plus IGR-I's exact argmax law (IGR-I S = 100: 3.11 -> 2.33,
#: S = 1,000: 19.6 -> 17.3); truncated IGR-SB, whose Monte-Carlo law dominates, 6.95 -> 6.90
#: at S = 100. IGR-Planar, IGR-SB and the baselines share GS's likelihood kernel.
_XLA_BOUND = frozenset({"bound_kernels"})
_XLA_TRAINING_AND_BOUND = frozenset({"training"}) | _XLA_BOUND

FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("gs", "GS", "#4c72b0", 0, "gs", "gs", ("logits",), True,
               ("priors", "temperatures", "simplex_proximity", "vae", "sop"), xla=_XLA_TRAINING_AND_BOUND),
        Family("igr_i", "IGR-I", "#dd8452", 1, "igr_i", "igr_i", _GAUSSIAN, True,
               ("priors", "temperatures", "simplex_proximity", "vae", "sop"), xla=_XLA_TRAINING_AND_BOUND),
        Family("igr_planar", "IGR-Planar", "#55a868", 2, "igr_planar", "igr_i", _GAUSSIAN, False,
               ("priors", "temperatures", "vae", "sop"), planar=True, xla=_XLA_TRAINING_AND_BOUND),
        Family("igr_sb", "IGR-SB", "#c44e52", 3, "igr_sb", "igr_sb", _GAUSSIAN, False,
               ("priors", "temperatures", "vae", "sop"), xla=_XLA_TRAINING_AND_BOUND),
        Family("igr_sb_trunc", "IGR-SB (truncated)", "#8172b3", 4, "igr_sb", "igr_sb", _GAUSSIAN,
               False, ("temperatures", "vae"), truncated=True, xla=_XLA_TRAINING_AND_BOUND),
        # Baselines (issue 17): GS's relaxation and prior file (so `calibrated` gives GS's
        # tau*), one-hot forward values, the exact categorical KL; q(b|x) = softmax(logits).
        # SOP: GS's K = 2 units with the one-hot forward value (the SOP loss has no KL).
        Family("st_gs", "ST-GS", "#937860", 5, "gs", "gs", ("logits",), True,
               ("temperatures", "vae", "sop"), forward="st_gs", kl="categorical",
               xla=_XLA_TRAINING_AND_BOUND),
        Family("reinmax", "ReinMax", "#da8bc3", 6, "gs", "gs", ("logits",), True,
               ("temperatures", "vae", "sop"), forward="reinmax", kl="categorical",
               xla=_XLA_TRAINING_AND_BOUND),
    )
}


#: Compiled steps of the VAE stage: the training step, the discrete-bound evaluation, and
#: the bound's elementwise kernels compiled on their own while the bound stays in graph mode
#: (an exact argmax law: IGR-I's quadrature; the Bernoulli log-likelihood's reduction).
XLA_PARTS = ("training", "evaluation", "bound_kernels")
#: Values of ``jit_compile`` (config) and ``--jit`` (command line).
JIT_SETTINGS = ("auto", "true", "false")


def use_xla(name: str, part: str, setting: str | bool = "auto") -> bool:
    """Whether ``part`` of family ``name`` compiles with XLA: ``true``/``false`` force it,
    ``auto`` reads the family's measured :attr:`Family.xla`."""
    if part not in XLA_PARTS:
        raise KeyError(f"unknown part {part!r}; known: {', '.join(XLA_PARTS)}")
    if isinstance(setting, bool):
        setting = "true" if setting else "false"
    if setting not in JIT_SETTINGS:
        raise ValueError(f"jit setting must be one of {', '.join(JIT_SETTINGS)}, got {setting!r}")
    if setting == "auto":
        return part in get_family(name).xla
    return setting == "true"


#: The compiled parts of each ``igr vae`` command.
COMMAND_XLA_PARTS = {"train": ("training",), "evaluate": ("evaluation", "bound_kernels")}


def xla_parts(name: str, command: str, setting: str | bool = "auto") -> str:
    """The parts of ``igr vae <command>`` (:data:`COMMAND_XLA_PARTS`) that compile with XLA
    for family ``name`` under ``setting``, as ``evaluation,bound_kernels`` or ``none``: what
    the rules pass as ``--expect-xla``, so that a change of the table reruns exactly the
    jobs whose compilation (and so whose random numbers or speed) it changes."""
    parts = COMMAND_XLA_PARTS[command]
    chosen = [part for part in parts if use_xla(name, part, setting)]
    return ",".join(chosen) or "none"


def get_family(name: str) -> Family:
    """The record of ``name``; a ``KeyError`` naming the known families otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


def families_of_stage(stage: str) -> tuple[str, ...]:
    """Names of the families a stage accepts, in registry order."""
    if stage not in STAGES:
        raise KeyError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")
    return tuple(name for name, family in FAMILIES.items() if stage in family.stages)


def wildcard_pattern(stage: str) -> str:
    """``gs|igr_i|...``: the families of a stage as a Snakemake wildcard constraint."""
    return "|".join(families_of_stage(stage))


def family_label(name: str) -> str:
    """Display name (``igr_i`` -> ``IGR-I``); an unknown name is shown as it is."""
    return FAMILIES[name].label if name in FAMILIES else name
