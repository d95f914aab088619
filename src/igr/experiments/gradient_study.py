"""Gradient-estimator study, toy setting: bias and variance of single-sample estimators.

Objective. One categorical variable with K categories and the toy loss

    L(params) = E_{b ~ q_params}[ f(b) ],   b one-hot, q_params the family's argmax law,

with ``f`` one of (fixed per K by the seed, :func:`make_objective`):

- ``linear``: ``f(b) = c . b``, ``c ~ N(0, I_K)``;
- ``quadratic`` (the REBAR / RELAX toy): ``f(b) = sum_k (b_k - t_k)^2``, ``t ~ U(0, 1)^K``.

Relaxed (pathwise) estimators evaluate the same ``f`` at the relaxed point ``psi``.

Families and their parameter point (fixed per K by the seed, :func:`family_point`), with
``z, z'`` independent standard normal vectors:

- ``gs``: logits ``theta = log P`` [K], ``P`` IGR-I's exact argmax law at IGR-I's point below
  (same K and seed): GS and IGR-I are compared on the same categorical law and objective,
  so their exact gradients differ only by the parameterisation;
- ``igr_i``: ``loc = mu0(K) + z``, ``scale = exp(0.3 z')`` [K-1], ``mu0(K)`` the loc of
  IGR-I's uniform prior at sigma0 = 1 (:func:`igr.distributions.igr_i_uniform_loc`);
- ``igr_planar``: IGR-I's loc and scale and ``planar_layers`` fixed planar layers with
  ``u ~ N(0, I)``, ``w ~ N(0, I / (K-1))``, ``b ~ N(0, 1)`` (not differentiated);
- ``igr_sb``: ``loc = igr_sb_initial_loc(K) + z`` (equal pieces at zero noise), scale as IGR-I.

Gradients are taken with respect to ``logits`` (GS) or ``(loc, scale)`` concatenated (the IGR
families; ``scale`` itself, the standard deviation, not a pre-activation).

Exact gradient (:func:`exact_gradient`; none depends on the temperature, since the argmax
law does not, delta = 1):

- GS: by enumeration, ``grad L = p * (F - p . F)``, ``p = softmax(theta)``, ``F_k = f(e_k)``;
- IGR-I: autodiff of ``sum_k P_k(loc, scale) F_k`` through the exact argmax law
  (:func:`igr.distributions.igr_i_argmax_probs`, differentiable in loc and scale);
- IGR-Planar, IGR-SB (no formula): the score function on the Gaussian base,
  ``grad L = E[(F_b - beta) grad log N(kappa; loc, scale)]`` with
  ``grad_loc = eps / scale``, ``grad_scale = (eps^2 - 1) / scale``, ``kappa = loc + scale eps``,
  ``b`` the argmax of the family's psi at kappa, and ``beta`` the mean of ``F_b`` over an
  independent pilot of draws (any constant keeps it unbiased), from ``exact_draws`` draws;
  it comes with the covariance of its error, ``S_e / exact_draws`` with the covariance
  ``S_e`` of one draw estimated on the first 100,000 draws (its P^2 cost per draw would
  otherwise dominate). ``exact_method``
  says which: ``exact`` or ``monte_carlo (N draws)``.

Estimators (:data:`ESTIMATORS_BY_FAMILY`; :mod:`igr.distributions.estimators`): GS ``relaxed``
(pathwise ``f(psi)``), ``st_gs``, ``st`` (plain straight-through, ReinMax's first-order
counterpart), ``reinmax``, ``reinforce`` (categorical score function); the IGR families
``relaxed`` (pathwise with respect to loc and scale) and ``reinforce`` (score function on
the Gaussian base, the unbiased control). Every estimator but ``reinforce`` runs at each
temperature of the grid (``temperature_kind`` ``grid``) and, given calibration records of
``igr calibrate-temperature`` (``--temperature-files``), also at the family's calibrated
temperature for that K (``calibrated``): GS's four estimators at GS's, each IGR family's
relaxed estimator at its own. Draws are seeded by the temperature's value, so a calibrated
tau equal to a grid tau repeats that row's numbers.

Statistics (:func:`summarize_draws`) of N independent single-sample draws ``g_n`` [P],
computed in one batched pass (per-draw gradients: the parameters are tiled to [N, P] and
differentiated as one tensor), against the exact gradient ``g`` with error covariance ``C``
(0 when exact), ``m`` the mean of the draws, ``S`` their sample covariance:

- ``bias = ||m - g||``; its value for an unbiased estimator is about
  ``bias_noise_floor = sqrt(tr S / N + tr C)``;
- ``squared_bias = ||m - g||^2 - tr S / N - tr C``, an unbiased estimate of
  ``||E g_n - grad L||^2`` (may be negative; it is the statistic for "unbiased" tests);
- ``variance = tr S`` (unbiased sample covariance); ``cosine = m . g / (||m|| ||g||)``;
- ``relative_variance = tr S / ||g||^2``, the inverse signal-to-noise ratio of one draw: the
  statistic that compares families whose gradients live in different parameters (GS's K
  logits, IGR's 2(K-1) locs and scales), since it does not change when ``f`` or the
  gradient is rescaled;
- ``mse = mean_n ||g_n - g||^2 - tr C``, an unbiased estimate of ``E ||g_n - grad L||^2``.

Standard errors (``*_se``): a delete-one-block jackknife over ``num_blocks`` contiguous
blocks of the draws (default 20), ``se^2 = (B-1)/B sum_b (stat_(b) - mean_b stat_(b))^2``,
plus, for a Monte-Carlo exact gradient, the delta-method term ``d^T C d`` with ``d`` the
derivative of the statistic with respect to ``g``, added in quadrature (the two sources
are independent).

Output: :func:`run_toy_study` returns one row per (objective, K, family, estimator,
temperature) with :data:`COLUMNS` (documented in :data:`COLUMN_DESCRIPTIONS`);
:func:`write_toy_study` writes the CSV and a JSON record (settings, columns, runtime,
provenance) atomically. ``igr gradients toy`` runs both.
"""

from __future__ import annotations

import argparse
import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from igr.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

#: The toy objectives.
OBJECTIVES: tuple[str, ...] = ("linear", "quadratic")
#: Families of the study (truncated IGR-SB has no fixed K and is left out).
STUDY_FAMILIES: tuple[str, ...] = ("gs", "igr_i", "igr_planar", "igr_sb")
#: Estimators of each family; ``reinforce`` has no temperature.
ESTIMATORS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "gs": ("relaxed", "st_gs", "st", "reinmax", "reinforce"),
    "igr_i": ("relaxed", "reinforce"),
    "igr_planar": ("relaxed", "reinforce"),
    "igr_sb": ("relaxed", "reinforce"),
}
#: Spread of log scale at the parameter point: ``scale = exp(SCALE_SPREAD z')``.
SCALE_SPREAD = 0.3
#: Draws per chunk of the Monte-Carlo exact gradient (bounds memory), and of its pilot.
EXACT_CHUNK_SIZE = 100_000
PILOT_DRAWS = 10_000

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "objective": "toy objective f: linear (c . b) or quadratic (sum_k (b_k - t_k)^2)",
    "num_categories": "K",
    "family": "relaxed family (igr.families name)",
    "estimator": "relaxed, st_gs, st, reinmax or reinforce",
    "temperature": "tau of the estimator (empty for reinforce)",
    "temperature_kind": "grid (the shared temperature grid), calibrated (the family's "
    "calibrated tau for this K, igr calibrate-temperature), or empty for reinforce",
    "gradient_of": "parameters the gradient is taken with respect to",
    "num_parameters": "P, the length of the gradient",
    "num_draws": "N, independent single-sample gradient draws",
    "num_blocks": "blocks of the jackknife standard errors",
    "exact_method": "exact, or monte_carlo (N draws) for a score-function estimate",
    "exact_norm": "||g||, the norm of the exact gradient",
    "exact_standard_error": "sqrt(tr C), the expected error norm of g (0 when exact)",
    "bias": "||m - g||, m the mean of the draws",
    "bias_se": "standard error of bias",
    "bias_noise_floor": "sqrt(tr S / N + tr C): bias expected of an unbiased estimator",
    "squared_bias": "||m - g||^2 - tr S / N - tr C: unbiased estimate of the squared bias",
    "squared_bias_se": "standard error of squared_bias",
    "variance": "tr S, the trace of the sample covariance of one draw",
    "variance_se": "standard error of variance",
    "relative_variance": "tr S / ||g||^2: variance relative to the squared exact gradient "
    "(inverse signal-to-noise ratio of one draw; unchanged by rescaling f or the parameters)",
    "relative_variance_se": "standard error of relative_variance",
    "cosine": "m . g / (||m|| ||g||)",
    "cosine_se": "standard error of cosine",
    "mse": "mean_n ||g_n - g||^2 - tr C: mean squared error of one draw",
    "mse_se": "standard error of mse",
    "seconds": "wall-clock seconds of the row's draws and statistics",
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_DESCRIPTIONS)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ToyStudySettings:
    """What :func:`run_toy_study` computes (module docstring); the CLI's defaults.

    ``estimators`` (None: all of :data:`ESTIMATORS_BY_FAMILY`) restricts the estimators run;
    it has no command-line option.
    """

    num_draws: int = 10_000
    categories: tuple[int, ...] = (10,)
    temperatures: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
    objectives: tuple[str, ...] = OBJECTIVES
    families: tuple[str, ...] = STUDY_FAMILIES
    seed: int = 2020
    exact_draws: int = 1_000_000
    num_blocks: int = 20
    planar_layers: int = 2
    estimators: tuple[str, ...] | None = field(default=None)
    #: ``((family, K, tau), ...)``: calibrated temperatures (``temperature_kind`` calibrated).
    calibrated_temperatures: tuple[tuple[str, int, float], ...] = ()

    def check(self) -> None:
        """Raise :class:`InputError` (naming the option) for a setting that cannot run."""
        if not self.categories or any(int(k) < 2 for k in self.categories):
            raise InputError(f"--categories: every K must be >= 2, got {list(self.categories)}")
        if not self.temperatures or any(
            not (math.isfinite(t) and t > 0) for t in self.temperatures
        ):
            raise InputError(
                f"--temperatures: every temperature must be a finite number > 0, got "
                f"{list(self.temperatures)}"
            )
        for option, values in (
            ("--categories", self.categories),
            ("--temperatures", self.temperatures),
            ("--objectives", self.objectives),
            ("--families", self.families),
        ):
            if len(set(values)) != len(values):
                raise InputError(f"{option}: a value is given twice: {list(values)}")
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        if not self.objectives or unknown:
            raise InputError(f"--objectives: choose from {', '.join(OBJECTIVES)}, got {unknown}")
        unknown = [f for f in self.families if f not in STUDY_FAMILIES]
        if not self.families or unknown:
            raise InputError(
                f"--families: choose from {', '.join(STUDY_FAMILIES)}, got {unknown}"
            )
        known = {e for names in ESTIMATORS_BY_FAMILY.values() for e in names}
        if self.estimators is not None and (
            not self.estimators or any(e not in known for e in self.estimators)
        ):
            raise InputError(f"estimators: choose from {sorted(known)}, got {self.estimators}")
        if self.num_blocks < 2:
            raise InputError(f"--blocks: must be >= 2, got {self.num_blocks}")
        if self.num_draws < 2 * self.num_blocks:
            raise InputError(
                f"--num-draws: must be >= 2 x --blocks = {2 * self.num_blocks}, "
                f"got {self.num_draws}"
            )
        if self.exact_draws < 2:
            raise InputError(f"--exact-draws: must be >= 2, got {self.exact_draws}")
        if self.planar_layers < 1:
            raise InputError(f"--planar-layers: must be >= 1, got {self.planar_layers}")
        if not 0 <= self.seed < 2**31:
            raise InputError(f"--seed: must lie in [0, 2^31), got {self.seed}")
        seen = set()
        for family, k, tau in self.calibrated_temperatures:
            what = f"--temperature-files: calibration of {family} with K = {k}"
            if family not in self.families or k not in self.categories:
                raise InputError(
                    f"{what}: not in the study (families {', '.join(self.families)}; "
                    f"K {', '.join(map(str, self.categories))})"
                )
            if (family, k) in seen:
                raise InputError(f"{what}: given twice")
            if not (math.isfinite(tau) and tau > 0):
                raise InputError(f"{what}: temperature {tau!r} is not a positive number")
            seen.add((family, k))

    def estimators_of(self, family: str) -> tuple[str, ...]:
        names = ESTIMATORS_BY_FAMILY[family]
        return names if self.estimators is None else tuple(e for e in names if e in self.estimators)

    def temperatures_of(self, family: str, num_categories: int, estimator: str):
        """``[(tau, kind), ...]`` of one row group: ``[(None, "")]`` for reinforce, else the
        grid, then the family's calibrated tau for this K when given."""
        if estimator == "reinforce":
            return [(None, "")]
        chosen = [(float(tau), "grid") for tau in self.temperatures]
        chosen += [
            (float(tau), "calibrated")
            for f, k, tau in self.calibrated_temperatures
            if f == family and int(k) == int(num_categories)
        ]
        return chosen


def stateless_seed(seed: int, *labels) -> tuple[int, int]:
    """A stateless TF seed ``(seed, crc32(labels))``: stable whatever else the study runs."""
    text = "|".join(str(label) for label in labels)
    return (int(seed), zlib.crc32(text.encode()) & 0x7FFFFFFF)


# --------------------------------------------------------------------------- objectives


@dataclass(frozen=True)
class ToyObjective:
    """``f`` of the module docstring: ``linear`` (c . b) or ``quadratic`` (||b - t||^2)."""

    name: str
    coefficients: np.ndarray  # c (linear) or t (quadratic), [K], float64

    def __call__(self, points):
        import tensorflow as tf

        coefficients = tf.constant(self.coefficients, points.dtype)
        if self.name == "linear":
            return tf.reduce_sum(points * coefficients, axis=-1)
        return tf.reduce_sum(tf.square(points - coefficients), axis=-1)

    @property
    def num_categories(self) -> int:
        return int(self.coefficients.shape[-1])

    def vertex_values(self) -> np.ndarray:
        """``F_k = f(e_k)`` [K]: ``c_k`` or ``||t||^2 + 1 - 2 t_k``."""
        if self.name == "linear":
            return self.coefficients.copy()
        return np.sum(self.coefficients**2) + 1.0 - 2.0 * self.coefficients


def make_objective(name: str, num_categories: int, seed: int) -> ToyObjective:
    """The fixed ``c ~ N(0, I)`` (linear) or ``t ~ U(0, 1)^K`` (quadratic) of the seed."""
    import tensorflow as tf

    draw_seed = stateless_seed(seed, "objective", name, num_categories)
    if name == "linear":
        values = tf.random.stateless_normal([num_categories], draw_seed, dtype=tf.float64)
    elif name == "quadratic":
        values = tf.random.stateless_uniform([num_categories], draw_seed, dtype=tf.float64)
    else:
        raise ValueError(f"unknown objective {name!r}; known: {', '.join(OBJECTIVES)}")
    return ToyObjective(name, values.numpy())


# --------------------------------------------------------------------------- parameter points


@dataclass(frozen=True)
class FamilyPoint:
    """A family at a fixed parameter point: ``parameters`` are differentiated, ``flow`` not."""

    family: str
    num_categories: int
    parameters: dict[str, np.ndarray]
    flow: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def gradient_of(self) -> tuple[str, ...]:
        return tuple(self.parameters)

    @property
    def num_parameters(self) -> int:
        return int(sum(v.shape[-1] for v in self.parameters.values()))

    def distribution(self, temperature, parameters=None):
        """The family (``igr.models.relaxed.distribution``) at ``parameters`` (default: the
        point), whose batch shape is theirs; the flow is broadcast to it."""
        import tensorflow as tf

        from igr.models import relaxed

        if parameters is None:
            parameters = {k: tf.constant(v) for k, v in self.parameters.items()}
        flow = None
        if self.flow is not None:
            batch = tf.shape(parameters["loc"])[:-1]
            flow = tuple(
                tf.broadcast_to(tf.constant(f), tf.concat([batch, f.shape], 0)) for f in self.flow
            )
        return relaxed.distribution(self.family, temperature, flow=flow, **parameters)

    def base_categories(self, kappa):
        """Argmax categories [...] of the family's psi at Gaussian base draws ``kappa`` [..., K-1].

        The argmax does not depend on the temperature (delta = 1), so psi is taken at tau = 1.
        """
        import tensorflow as tf

        distribution = self.distribution(1.0)
        lam = kappa
        if self.flow is not None:  # IGR-Planar: the flow maps kappa to lambda
            lam = distribution.distribution.bijector.forward(kappa)
        psi = distribution.bijector.forward(lam)
        return tf.argmax(psi, axis=-1, output_type=tf.int32)


def family_point(
    family: str, num_categories: int, seed: int, planar_layers: int = 2
) -> FamilyPoint:
    """The documented parameter point of ``family`` for K categories (module docstring)."""
    import tensorflow as tf

    from igr.distributions import igr_i_uniform_loc
    from igr.models.relaxed import igr_sb_initial_loc

    def normal(shape, *labels):
        draw_seed = stateless_seed(seed, "point", family, num_categories, *labels)
        return tf.random.stateless_normal(shape, draw_seed, dtype=tf.float64).numpy()

    k = num_categories
    if family == "gs":  # the categorical law of IGR-I's point (module docstring)
        from igr.distributions import igr_i_argmax_probs

        igr_i = family_point("igr_i", k, seed).parameters
        law = igr_i_argmax_probs(
            tf.constant(igr_i["loc"]), tf.constant(igr_i["scale"]), tf.constant(0.0, tf.float64)
        ).numpy()
        return FamilyPoint(family, k, {"logits": np.log(np.maximum(law, 1e-300))})
    if family not in STUDY_FAMILIES:
        raise ValueError(f"family {family!r} is not in the study ({', '.join(STUDY_FAMILIES)})")
    centre = igr_sb_initial_loc(k).astype(np.float64) if family == "igr_sb" else np.full(
        [k - 1], igr_i_uniform_loc(k, 1.0)
    )
    parameters = {
        "loc": centre + normal([k - 1], "loc"),
        "scale": np.exp(SCALE_SPREAD * normal([k - 1], "scale")),
    }
    flow = None
    if family == "igr_planar":
        flow = (
            normal([planar_layers, k - 1], "flow_u"),
            normal([planar_layers, k - 1], "flow_w") / math.sqrt(k - 1),
            normal([planar_layers], "flow_b"),
        )
    return FamilyPoint(family, k, parameters, flow)


# --------------------------------------------------------------------------- exact gradients


class ExactGradient(NamedTuple):
    """The gradient ``value`` [P] of L, the ``covariance`` [P, P] of its error, its method."""

    value: np.ndarray
    covariance: np.ndarray
    method: str


def categorical_gradient(logits: np.ndarray, vertex_values: np.ndarray) -> np.ndarray:
    """``p * (F - p . F)``, ``p = softmax(logits)``: the gradient of ``sum_k p_k F_k``."""
    shifted = np.asarray(logits, np.float64) - np.max(logits)
    p = np.exp(shifted) / np.sum(np.exp(shifted))
    return p * (vertex_values - p @ vertex_values)


def igr_i_gradient(loc: np.ndarray, scale: np.ndarray, vertex_values: np.ndarray) -> np.ndarray:
    """``d/d(loc, scale) sum_k P_k F_k`` through IGR-I's exact argmax law (autodiff) [2(K-1)]."""
    import tensorflow as tf

    from igr.distributions import igr_i_argmax_probs

    loc, scale = tf.constant(loc, tf.float64), tf.constant(scale, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([loc, scale])
        probs = igr_i_argmax_probs(loc, scale, tf.constant(0.0, tf.float64))
        objective = tf.reduce_sum(probs * tf.constant(vertex_values, tf.float64))
    grad_loc, grad_scale = tape.gradient(objective, [loc, scale])
    return np.concatenate([grad_loc.numpy(), grad_scale.numpy()])


def exact_objective(point: FamilyPoint, vertex_values: np.ndarray) -> float:
    """``L = sum_k P_k F_k`` with the exact argmax law (GS and IGR-I only)."""
    import tensorflow as tf

    from igr.distributions import igr_i_argmax_probs

    if point.family == "gs":
        logits = point.parameters["logits"]
        p = np.exp(logits - logits.max())
        return float(p @ vertex_values / p.sum())
    if point.family == "igr_i":
        probs = igr_i_argmax_probs(
            tf.constant(point.parameters["loc"]),
            tf.constant(point.parameters["scale"]),
            tf.constant(0.0, tf.float64),
        )
        return float(probs.numpy() @ vertex_values)
    raise ValueError(f"{point.family} has no exact argmax law")


def score_function_gradients(
    point: FamilyPoint,
    vertex_values: Sequence[np.ndarray],
    num_draws: int,
    seed: int,
    chunk_size: int = EXACT_CHUNK_SIZE,
) -> list[ExactGradient]:
    """Score-function estimates (module docstring) of the gradient of L for each ``F`` in
    ``vertex_values``, from the same ``num_draws`` Gaussian draws (chunked)."""
    import tensorflow as tf

    loc = tf.constant(point.parameters["loc"], tf.float64)
    scale = tf.constant(point.parameters["scale"], tf.float64)
    values = tf.constant(np.stack(vertex_values), tf.float64)  # [M, K]

    def draw(n, draw_seed):
        noise = tf.random.stateless_normal([n, loc.shape[-1]], draw_seed, dtype=tf.float64)
        categories = point.base_categories(loc + scale * noise)
        return noise, tf.gather(values, categories, axis=1)  # [n, K-1], [M, n]

    _, pilot = draw(min(PILOT_DRAWS, num_draws), stateless_seed(seed, "pilot"))
    baseline = tf.reduce_mean(pilot, axis=1, keepdims=True)  # [M, 1]
    total = tf.zeros([values.shape[0], 2 * loc.shape[-1]], tf.float64)
    covariance = None
    done, chunk = 0, 0
    while done < num_draws:
        n = min(chunk_size, num_draws - done)
        noise, f_values = draw(n, stateless_seed(seed, "chunk", chunk))
        score = tf.concat([noise, tf.square(noise) - 1.0], axis=-1) / tf.tile(scale, [2])
        weights = f_values - baseline  # [M, n]
        total += tf.linalg.matmul(weights, score)  # sum_n (F_n - beta) score_n: [M, P]
        if covariance is None:  # from the first chunk: P^2 per draw would dominate the cost
            terms = weights[..., tf.newaxis] * score  # [M, n, P]
            centred = terms - tf.reduce_mean(terms, axis=1, keepdims=True)
            covariance = tf.linalg.matmul(centred, centred, transpose_a=True) / max(n - 1, 1)
        done, chunk = done + n, chunk + 1
    mean = total / num_draws
    method = f"monte_carlo ({num_draws} draws)"
    return [
        ExactGradient(m, c / num_draws, method)
        for m, c in zip(mean.numpy(), covariance.numpy())
    ]


def exact_gradients(
    point: FamilyPoint, objectives: Sequence[ToyObjective], exact_draws: int, seed: int
) -> list[ExactGradient]:
    """The gradient of L for each objective: exact for GS and IGR-I, else Monte Carlo."""
    values = [objective.vertex_values() for objective in objectives]
    size = point.num_parameters
    zero = np.zeros([size, size])
    if point.family == "gs":
        return [
            ExactGradient(categorical_gradient(point.parameters["logits"], v), zero, "exact")
            for v in values
        ]
    if point.family == "igr_i":
        loc, scale = point.parameters["loc"], point.parameters["scale"]
        return [ExactGradient(igr_i_gradient(loc, scale, v), zero, "exact") for v in values]
    draws_seed = stateless_seed(seed, "exact", point.family, point.num_categories)[1]
    return score_function_gradients(point, values, exact_draws, draws_seed)


# --------------------------------------------------------------------------- estimator draws


def gradient_draws(
    point: FamilyPoint,
    objective: ToyObjective,
    estimator: str,
    temperature: float | None,
    num_draws: int,
    seed,
) -> np.ndarray:
    """``num_draws`` independent single-sample gradients [N, P], in one batched pass.

    The parameters are tiled to [N, ...] and watched as one tensor: draw n depends only on
    row n, so the gradient of the summed surrogate with respect to the tiled tensor holds
    the N per-draw gradients.
    """
    import tensorflow as tf

    from igr.distributions.estimators import (
        CATEGORICAL_ESTIMATORS,
        score_function_surrogate,
    )

    tiled = {
        name: tf.broadcast_to(tf.constant(value), [num_draws, value.shape[-1]])
        for name, value in point.parameters.items()
    }
    with tf.GradientTape() as tape:
        tape.watch(list(tiled.values()))
        if point.family == "gs":
            method = CATEGORICAL_ESTIMATORS[estimator]
            arguments = () if estimator == "reinforce" else (temperature,)
            surrogate = method(objective, tiled["logits"], *arguments, seed).surrogate
        elif estimator == "relaxed":
            psi = point.distribution(temperature, tiled).sample(seed=seed)
            surrogate = objective(psi)
        elif estimator == "reinforce":
            loc, scale = tiled["loc"], tiled["scale"]
            noise = tf.random.stateless_normal(tf.shape(loc), seed, dtype=loc.dtype)
            kappa = tf.stop_gradient(loc + scale * noise)
            log_prob = tf.reduce_sum(
                -0.5 * tf.square((kappa - loc) / scale) - tf.math.log(scale), axis=-1
            )
            categories = point.base_categories(kappa)
            values = tf.gather(tf.constant(objective.vertex_values()), categories)
            surrogate = score_function_surrogate(values, log_prob)
        else:
            raise ValueError(f"{point.family} has no estimator {estimator!r}")
        total = tf.reduce_sum(surrogate)
    gradients = tape.gradient(total, list(tiled.values()))
    return np.concatenate([g.numpy() for g in gradients], axis=-1)


# --------------------------------------------------------------------------- statistics


def _statistics(count, total, errors, exact, trace_exact):
    """The statistics of the module docstring from sums over draws (vectorised over rows).

    ``count`` [...], ``total`` [..., P] (sum of g_n), ``errors`` [...] (sum ||g_n - g||^2).
    The variance is taken about g, ``tr S = (sum ||g_n - g||^2 - n ||m - g||^2) / (n - 1)``,
    which avoids the cancellation of ``sum ||g_n||^2 - n ||m||^2`` when ``||m||`` is large.
    """
    count = np.asarray(count, np.float64)
    mean = total / count[..., None]
    difference = mean - exact
    bias_sq = np.sum(difference**2, axis=-1)
    variance = (errors - count * bias_sq) / (count - 1)
    exact_norm = np.linalg.norm(exact)
    mean_norm = np.linalg.norm(mean, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = mean @ exact / (mean_norm * exact_norm)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative_variance = variance / exact_norm**2
    return {
        "bias": np.sqrt(bias_sq),
        "squared_bias": bias_sq - variance / count - trace_exact,
        "variance": variance,
        "relative_variance": relative_variance,
        "cosine": cosine,
        "mse": errors / count - trace_exact,
    }


def summarize_draws(
    draws: np.ndarray, exact: ExactGradient, num_blocks: int = 20
) -> dict[str, float]:
    """Bias, squared bias, variance, cosine and MSE of ``draws`` [N, P] with standard errors
    (module docstring: block jackknife plus the delta method for a Monte-Carlo exact)."""
    draws = np.asarray(draws, np.float64)
    g, c = np.asarray(exact.value, np.float64), np.asarray(exact.covariance, np.float64)
    trace_exact = float(np.trace(c))
    n = draws.shape[0]
    blocks = np.array_split(np.arange(n), num_blocks)
    block_count = np.array([len(b) for b in blocks], np.float64)
    block_total = np.stack([draws[b].sum(0) for b in blocks])
    errors = np.sum((draws - g) ** 2, axis=-1)
    block_errors = np.array([errors[b].sum() for b in blocks])

    full = _statistics(n, block_total.sum(0), block_errors.sum(), g, trace_exact)
    left_out = _statistics(
        n - block_count,
        block_total.sum(0) - block_total,
        block_errors.sum() - block_errors,
        g,
        trace_exact,
    )
    # Derivatives of the statistics with respect to the exact gradient g (delta method).
    mean = block_total.sum(0) / n
    difference = mean - g
    bias = float(np.linalg.norm(difference))
    mean_norm, exact_norm = float(np.linalg.norm(mean)), float(np.linalg.norm(g))
    cosine = float(full["cosine"])
    derivative = {
        "bias": -difference / bias if bias > 0 else np.zeros_like(g),
        "squared_bias": -2.0 * difference,
        "variance": np.zeros_like(g),
        "relative_variance": -2.0 * float(full["relative_variance"]) * g / exact_norm**2
        if exact_norm > 0
        else np.zeros_like(g),
        "cosine": (mean / (mean_norm * exact_norm) - cosine * g / exact_norm**2)
        if mean_norm > 0 and exact_norm > 0
        else np.zeros_like(g),
        "mse": -2.0 * difference,
    }
    summary: dict[str, float] = {}
    for name, value in full.items():
        replicates = left_out[name]
        jackknife = (num_blocks - 1) / num_blocks * np.sum((replicates - replicates.mean()) ** 2)
        summary[name] = float(value)
        delta_method = derivative[name] @ c @ derivative[name]
        summary[f"{name}_se"] = float(math.sqrt(jackknife + delta_method))
    summary["bias_noise_floor"] = float(math.sqrt(max(full["variance"], 0.0) / n + trace_exact))
    summary["exact_norm"] = exact_norm
    summary["exact_standard_error"] = math.sqrt(trace_exact)
    return summary


# --------------------------------------------------------------------------- the study


def run_toy_study(settings: ToyStudySettings | None = None) -> pd.DataFrame:
    """One row per (objective, K, family, estimator, temperature): :data:`COLUMNS`."""
    import pandas as pd

    settings = settings or ToyStudySettings()
    settings.check()
    rows = []
    for k in settings.categories:
        objectives = [make_objective(name, int(k), settings.seed) for name in settings.objectives]
        for family in settings.families:
            point = family_point(family, int(k), settings.seed, settings.planar_layers)
            exacts = exact_gradients(point, objectives, settings.exact_draws, settings.seed)
            for objective, exact in zip(objectives, exacts):
                for estimator in settings.estimators_of(family):
                    for tau, kind in settings.temperatures_of(family, k, estimator):
                        start = time.perf_counter()
                        draw_seed = stateless_seed(
                            settings.seed, "draws", objective.name, k, family, estimator, tau
                        )
                        draws = gradient_draws(
                            point, objective, estimator, tau, settings.num_draws, draw_seed
                        )
                        summary = summarize_draws(draws, exact, settings.num_blocks)
                        rows.append(
                            {
                                "objective": objective.name,
                                "num_categories": int(k),
                                "family": family,
                                "estimator": estimator,
                                "temperature": math.nan if tau is None else float(tau),
                                "temperature_kind": kind,
                                "gradient_of": ",".join(point.gradient_of),
                                "num_parameters": point.num_parameters,
                                "num_draws": settings.num_draws,
                                "num_blocks": settings.num_blocks,
                                "exact_method": exact.method,
                                **summary,
                                "seconds": time.perf_counter() - start,
                            }
                        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_toy_study(
    frame: pd.DataFrame,
    output: Path,
    record: Path,
    settings: ToyStudySettings,
    seconds: float,
    calibrations: Sequence[dict[str, Any]] = (),
) -> None:
    """Write the table (CSV) and its record (JSON: settings, the calibration files read,
    columns, runtime, provenance), each atomically."""
    from igr import provenance
    from igr.io import write_csv_atomic, write_json_atomic

    write_csv_atomic(output, frame)
    write_json_atomic(
        record,
        {
            "study": "gradients_toy",
            "table": str(output),
            "rows": int(len(frame)),
            "settings": {key: _jsonable(value) for key, value in asdict(settings).items()},
            "calibrations": list(calibrations),
            "columns": COLUMN_DESCRIPTIONS,
            "exact_methods": sorted(set(frame["exact_method"])) if len(frame) else [],
            "seconds": seconds,
            "provenance": provenance.collect(),
        },
    )


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --------------------------------------------------------------------------- command line


def _run(args: argparse.Namespace) -> int:
    from igr.experiments._common import configure_threads
    from igr.experiments._inputs import check_output_path, read_calibration

    calibrations = [
        read_calibration(path, f"--temperature-files {path}") for path in args.temperature_files
    ]
    settings = ToyStudySettings(
        num_draws=args.num_draws,
        categories=tuple(args.categories),
        temperatures=tuple(args.temperatures),
        objectives=tuple(args.objectives),
        families=tuple(args.families),
        seed=args.seed,
        exact_draws=args.exact_draws,
        num_blocks=args.blocks,
        planar_layers=args.planar_layers,
        calibrated_temperatures=tuple(
            (c["family"], c["num_categories"], c["temperature"]) for c in calibrations
        ),
    )
    settings.check()
    record = args.record if args.record is not None else args.output.with_suffix(".json")
    check_output_path(args.output, "--output")
    check_output_path(record, "--record")
    if Path(record).resolve() == Path(args.output).resolve():
        raise InputError(f"--record {record}: is the --output path; give another file")
    configure_threads(args.threads)
    start = time.perf_counter()
    frame = run_toy_study(settings)
    seconds = time.perf_counter() - start
    write_toy_study(
        frame, args.output, record, settings, seconds, [c["source"] for c in calibrations]
    )
    print(f"gradients toy: {len(frame)} rows in {seconds:.1f} s -> {args.output}, {record}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr gradients toy``."""
    from igr.commands import command_group

    commands = command_group(
        subparsers,
        "gradients",
        help="gradient-estimator studies: bias and variance of single-sample estimators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p = commands.add_parser(
        "toy",
        help="bias, variance, cosine and MSE of GS, ST-GS, ST, ReinMax, IGR and REINFORCE "
        "gradients on E[f(b)] for one categorical variable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = ToyStudySettings()
    p.add_argument("--output", required=True, type=Path, help="CSV table to write (atomically)")
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        help="JSON record (settings, columns, runtime, provenance) to write; "
        "default: the --output path with suffix .json",
    )
    p.add_argument(
        "--num-draws", type=int, default=defaults.num_draws, metavar="N",
        help="independent single-sample gradient draws per row",
    )
    p.add_argument(
        "--exact-draws", type=int, default=defaults.exact_draws,
        help="draws of the score-function gradient of families without an exact argmax law",
    )
    p.add_argument(
        "--categories", type=int, nargs="+", default=list(defaults.categories), metavar="K",
        help="numbers of categories K",
    )
    p.add_argument(
        "--temperatures", type=float, nargs="+", default=list(defaults.temperatures),
        metavar="TAU", help="temperatures tau of the relaxed and straight-through estimators",
    )
    p.add_argument(
        "--temperature-files", type=Path, nargs="+", default=[], metavar="FILE",
        help="records of igr calibrate-temperature: each family also runs at its calibrated "
        "tau for that K (temperature_kind calibrated); default: none",
    )
    p.add_argument(
        "--objectives", nargs="+", choices=OBJECTIVES, default=list(defaults.objectives),
        help="toy objectives f",
    )
    p.add_argument(
        "--families", nargs="+", choices=STUDY_FAMILIES, default=list(defaults.families),
        help="relaxed families to compare",
    )
    p.add_argument(
        "--blocks", type=int, default=defaults.num_blocks,
        help="blocks of the jackknife standard errors",
    )
    p.add_argument(
        "--planar-layers", type=int, default=defaults.planar_layers,
        help="fixed planar layers of IGR-Planar",
    )
    p.add_argument(
        "--seed", type=int, default=defaults.seed,
        help="seed of the objectives, parameter points and every draw (stateless)",
    )
    p.add_argument(
        "--threads", type=int, default=None,
        help="TensorFlow intra- and inter-op threads (default: TensorFlow's choice)",
    )
    p.set_defaults(func=_run)
