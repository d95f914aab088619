"""Benchmark: do the hand-written fused samplers pay off in the real VAE training step?

Run: `IGR_DATA_DIR=/work/shared/data python benchmarks/bench_fused.py [--rounds 15] [--jit]`.

For each family with a fused sampler (closed-form gradient, `tf.custom_gradient`), the VAE
training step (MNIST, nonlinear net, batch 100, V = 20, K = 10, tf_keras Adam) is timed in
two variants that compute the same numbers:

- IGR-I and IGR-SB: psi from the fused `experimental_sample_and_log_prob` (IGR-I's kernels
  XLA-compiled unless `IGR_XLA=0`) against TFP's own composition `q.sample` (Gaussian draw,
  then the bijector), the closed-form KL in both;
- truncated IGR-SB: the fused draw with its closed-form gradient (what the VAE uses)
  against the same forward computation differentiated by TensorFlow's autodiff.

The variants run round-robin in one process (`--rounds` rounds of `--steps` steps each,
after a warm-up), so a slow spell of the machine hits all of them alike. Printed per
variant: the median steps/s and its interquartile range; per family: the median over
rounds of the paired ratio fused / plain, with its range. The rule of issue 13: keep a
hand-written gradient only where the ratio is at least 1.05.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from igr.data import load_arrays
from igr.distributions._sampling import loc_scale_and_noise
from igr.distributions.igr_stick_breaking import (
    _truncated_density,
    _truncated_sticks,
    truncation_num_categories,
)
from igr.experiments.priors import learn_prior
from igr.experiments.vae import build_model
from igr.training import step_seed
from igr.training.optimizer import adam


def settings(family):
    return dict(  # noqa: C408
        dataset="mnist", architecture="nonlinear", family=family, likelihood="bernoulli",
        temperature=0.5, num_variables=20, num_categories=10, planar_layers=2, threshold=0.9,
        quantile=0.75, seed=1,
    )


def priors():
    sb = learn_prior("igr_sb", 10, fit_temperature=0.01, num_steps=5, samples_per_step=100,
                     learning_rate=0.05, eval_samples=100, seed=1)
    return {"igr_i": learn_prior("igr_i", 10, scale=1.0), "igr_sb": sb, "igr_sb_trunc": sb}


def fused_sample(q, p, seed):
    psi, _ = q.experimental_sample_and_log_prob(seed=seed)
    return psi, tf.reduce_sum(tfp.distributions.kl_divergence(q, p), -1)


def plain_sample(q, p, seed):
    return q.sample(seed=seed), tf.reduce_sum(tfp.distributions.kl_divergence(q, p), -1)


def fused_truncated(q, p, seed):
    draws = q.sample_with_truncation(seed=seed)
    return draws.psi, tf.reduce_sum(q.truncated_kl(p, draws.num_categories), -1)


def autodiff_truncated(q, p, seed):
    """The fused draw's forward pass (same seed, same psi), differentiated by autodiff."""
    loc, scale, noise = loc_scale_and_noise(
        tf.convert_to_tensor(q.loc), tf.convert_to_tensor(q.scale), (), seed
    )
    _, log_v, prefix = _truncated_sticks(loc, scale, noise)
    m, _ = truncation_num_categories(
        tf.stop_gradient(prefix), q.threshold, q.quantile, q.max_categories
    )
    temperature = tf.convert_to_tensor(q.temperature, loc.dtype)
    psi, _, _ = _truncated_density(log_v, prefix, noise, scale, m, temperature)
    return psi, tf.reduce_sum(q.truncated_kl(p, m), -1)


VARIANTS = {
    "igr_i": {"fused": fused_sample, "plain": plain_sample},
    "igr_sb": {"fused": fused_sample, "plain": plain_sample},
    "igr_sb_trunc": {"fused": fused_truncated, "plain": autodiff_truncated},
}


def make_step(model, sampler, jit):
    variables = model.trainable_variables
    optimizer = adam(1e-3)
    optimizer.build(variables)

    def loss_fn(x, seed):
        q = model.latent.posterior(model.encoder(x))
        psi, kl = sampler(q, model.latent.prior(), seed)
        return -tf.reduce_mean(model.log_likelihood(x, psi) - kl)

    def step(x, t):
        with tf.GradientTape() as tape:
            loss = loss_fn(x, step_seed(1, t))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return tf.function(step, jit_compile=jit)


def check_same_draws(model, variants, batch):
    """Both variants give the same psi from the same seed (the comparison is like for like)."""
    q = model.latent.posterior(model.encoder(batch))
    seed = step_seed(1, 0)
    psi = [variant(q, model.latent.prior(), seed)[0] for variant in variants.values()]
    np.testing.assert_allclose(psi[0].numpy(), psi[1].numpy(), rtol=1e-4, atol=1e-5)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=50, help="steps per variant per round")
    parser.add_argument("--jit", action="store_true", help="compile the whole step with XLA")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    data = load_arrays("mnist")
    batches = [tf.constant(data.x_train[i * 100 : (i + 1) * 100]) for i in range(20)]
    records = priors()
    steps = {}
    for family, variants in VARIANTS.items():
        model = build_model(settings(family), records[family], (28, 28, 1))
        check_same_draws(model, variants, batches[0])
        for name, sampler in variants.items():
            step = make_step(build_model(settings(family), records[family], (28, 28, 1)), sampler, args.jit)
            for i in range(5):  # warm-up: tracing and first runs
                float(step(batches[i], tf.constant(i, tf.int64)))
            steps[family, name] = step
    rates = {key: [] for key in steps}
    for _ in range(args.rounds):
        for key, step in steps.items():
            started = time.perf_counter()
            for i in range(args.steps):
                loss = step(batches[i % len(batches)], tf.constant(i, tf.int64))
            float(loss)
            rates[key].append(args.steps / (time.perf_counter() - started))
    mode = "XLA" if args.jit else "graph"
    print(f"VAE training step, MNIST nonlinear, batch 100, {mode} mode, {args.rounds} rounds "
          f"of {args.steps} steps, IGR_XLA={os.environ.get('IGR_XLA', '1')}")
    for (family, name), values in rates.items():
        q25, median, q75 = np.percentile(values, [25, 50, 75])
        print(f"  {family:13s} {name:6s} {median:7.1f} steps/s (IQR {q25:.1f}-{q75:.1f})")
    for family in VARIANTS:
        ratios = np.asarray(rates[family, "fused"]) / np.asarray(rates[family, "plain"])
        verdict = "keep" if np.median(ratios) >= 1.05 else "delete (< 1.05)"
        print(f"  {family:13s} fused / plain = {np.median(ratios):.3f} "
              f"(range {ratios.min():.3f}-{ratios.max():.3f}) -> {verdict}")


if __name__ == "__main__":
    main()
