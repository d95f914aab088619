"""Benchmark: sample + log_prob + gradient per family, against TFP's RelaxedOneHotCategorical.

Run: `python benchmarks/bench_distributions.py` (add `--quick` for fewer repeats).

Every variant is one compiled `tf.function` step on the same shapes: draw S relaxed samples
for a batch of B examples with V discrete variables of K categories and evaluate their log
density (`experimental_sample_and_log_prob`, which for TFP's class is its default `sample`
then `log_prob`), and take the gradient of `sum(log_prob) + sum(psi * c)` with respect to the
family's own parameters: GS's logits; IGR's `loc` and `scale`. TFP's
`RelaxedOneHotCategorical` (Gumbel-Softmax) is the baseline measured in the same run, and the
script prints each family's speed as a ratio to it (> 1 is faster).

`--softplus-scale` instead makes IGR's scale `softplus(raw)` of an unconstrained variable, as
an encoder head would; that charges the head (a softplus and its sigmoid gradient, about a
fifth of the IGR step at K = 50) to the family. `benchmarks/bench_vae.py` measures whole VAE
steps, heads included.

Targets (issue 2): IGR-I >= 1.0x; truncated IGR-SB >= 0.5x. Every family is TFP's own
composition differentiated by autodiff (the hand-written fused gradients were removed in
issue 13: measured in the VAE step, `benchmarks/bench_fused.py` at commit 3473160, they
were no faster).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from igr.distributions import (  # noqa: E402
    IGRI,
    IGRSB,
    GumbelSoftmax,
    IGRPlanar,
    TruncatedIGRSB,
)

TEMPERATURE = 0.5


def make_step(family: str, shape, jit_compile: bool = False, softplus_scale: bool = False):
    """A compiled step for `family` at shape (S, B, V, K)."""
    num_samples, batch, num_vars, k = shape
    rng = np.random.default_rng(0)
    logits = tf.Variable(rng.normal(size=(batch, num_vars, k)).astype(np.float32))
    loc = tf.Variable(rng.normal(size=(batch, num_vars, k - 1)).astype(np.float32))
    # Direct: scale 1 as the variable; softplus head: softplus(0.5413) = 1.
    initial_scale = 0.5413 if softplus_scale else 1.0
    raw_scale = tf.Variable(np.full((batch, num_vars, k - 1), initial_scale, np.float32))
    flow = tf.Variable(rng.normal(0, 0.1, size=(num_vars, 2, k - 1)).astype(np.float32))
    flow_b = tf.Variable(np.zeros((num_vars, 2), np.float32))
    weights = tf.constant(rng.normal(size=(k,)).astype(np.float32))

    def distribution():
        scale = tf.math.softplus(raw_scale) if softplus_scale else raw_scale
        if family == "tfp_relaxed_one_hot":
            return tfp.distributions.RelaxedOneHotCategorical(TEMPERATURE, logits=logits)
        if family == "gs":
            return GumbelSoftmax(logits, TEMPERATURE)
        if family == "igr_i":
            return IGRI(loc, scale, TEMPERATURE)
        if family == "igr_planar":
            return IGRPlanar(loc, scale, TEMPERATURE, flow, flow, flow_b)
        if family == "igr_sb":
            return IGRSB(loc, scale, TEMPERATURE)
        if family == "igr_sb_truncated":
            return TruncatedIGRSB(loc, scale, TEMPERATURE)
        raise ValueError(family)

    variables = [logits] if family in ("gs", "tfp_relaxed_one_hot") else [loc, raw_scale]
    if family == "igr_planar":
        variables += [flow, flow_b]

    @tf.function(jit_compile=jit_compile)
    def step(seed):
        with tf.GradientTape() as tape:
            d = distribution()
            psi, log_prob = d.experimental_sample_and_log_prob(num_samples, seed=seed)
            objective = tf.reduce_sum(log_prob) + tf.reduce_sum(psi * weights)
        return objective, tape.gradient(objective, variables)

    return step


def time_step(step, repeats: int) -> float:
    """Median seconds per call over `repeats` rounds of 20 calls, after a warm-up."""
    seeds = tf.constant(np.arange(2 * 21).reshape(21, 2), tf.int32)
    for i in range(3):
        step(seeds[i])
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(20):
            out = step(seeds[i])
        tf.nest.map_structure(lambda t: t.numpy() if t is not None else None, out)
        rounds.append((time.perf_counter() - start) / 20)
    return float(np.median(rounds))


FAMILIES = ("tfp_relaxed_one_hot", "gs", "igr_i", "igr_planar", "igr_sb", "igr_sb_truncated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--xla", action="store_true", help="compile every step with XLA")
    parser.add_argument(
        "--softplus-scale",
        action="store_true",
        help="IGR scale = softplus(variable), an encoder head charged to the family",
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 15
    shapes = [(1, 100, 20, 10), (1, 100, 20, 50)]
    print(f"{'shape (S,B,V,K)':<18} {'family':<22} {'ms/step':>9} {'vs TFP':>8}")
    for shape in shapes:
        # Interleave the measurements round by round so drift hits every family alike.
        steps = {
            family: make_step(family, shape, args.xla, args.softplus_scale) for family in FAMILIES
        }
        times = {family: [] for family in FAMILIES}
        for _ in range(repeats):
            for family, step in steps.items():
                times[family].append(time_step(step, 1))
        medians = {family: float(np.median(t)) for family, t in times.items()}
        baseline = medians["tfp_relaxed_one_hot"]
        for family in FAMILIES:
            ratio = baseline / medians[family]
            print(f"{str(shape):<18} {family:<22} {1e3 * medians[family]:>9.3f} {ratio:>7.2f}x")
    scale = "softplus(variable)" if args.softplus_scale else "the variable itself"
    print(f"IGR scale: {scale}")
    print("ratio = TFP time / family time; targets: igr_i >= 1.00x, igr_sb_truncated >= 0.50x")


if __name__ == "__main__":
    main()
