"""Benchmark: VAE training steps, Trainer epochs and the discrete bound, against floors.

Run: ``IGR_DATA_DIR=/work/shared/data python benchmarks/bench_vae.py [--quick]``
(MNIST, nonlinear networks, batch 100, V = 20, K = 10; ``--quick``, parts 1 and 3 at a
smaller size, takes about a minute; ``--quick --skip`` with no part also runs part 2 on
6,000 images, where the fixed cost of each checkpoint is 5-15% of a 60-step epoch).

1. **Training steps.** Every candidate step is a compiled ``tf.function`` with Adam on the
   same 20 batches, in graph mode and with XLA (``jit_compile=True``):

   - ``dense floor``: the encoder and decoder dense layers alone (forward + backward; the
     latent is a deterministic softmax of the encoder output): the floor of any VAE step;
   - ``plain TFP GS``: a GS VAE step written with TFP's ``RelaxedOneHotCategorical``;
   - each family's step (``igr.models.vae.DiscreteVAE.loss``), the baselines ST-GS and
     ReinMax included.

   The candidates run **round-robin**: each round times ``--steps`` steps of every
   candidate in turn (the starting candidate rotates), for ``--rounds`` rounds, so a slow
   spell of the machine hits all of them alike. Reported: the median rate over rounds and
   its interquartile range, the ratios (of medians) to the dense floor and to plain TFP GS
   of the same mode, the faster mode of each family, and the ratio of that best mode to
   the family's graph mode. Targets (issue 16): every family's best mode >= 0.85x the
   dense floor of that mode.

2. **Trainer epochs.** One :class:`igr.training.Trainer` per family with the step the
   pipeline uses (``jit_compile: auto``, :func:`igr.families.use_xla`), over the real
   index batches (MNIST, or its first 6,000 images with ``--quick``), checkpoints every
   epoch and TensorBoard scalars as in ``igr vae train``. Its per-epoch hook (where
   ``igr vae train`` evaluates) times the same number of steps of the loop's own compiled
   step (``Trainer.compiled_step``, which gathers its batch) on fixed index batches, so
   each epoch is compared with steps timed right after it: the
   epoch's wall runs from the end of one hook to the start of the next, i.e. it includes
   the index batches, the metric reads, the history, the scalars and the checkpoint. Epoch 1
   (tracing) is left out. Reported: the median ratio and its range over epochs, and the
   epoch against ``steps / rate`` of part 1 (untrained models, earlier in the run).
   Target: within 1.1x.

3. **Discrete bound.** ``igr.experiments.vae.bound_evaluator`` (the function of ``igr vae
   evaluate``) at S = 100 and S = 1,000 on 1,000 MNIST test images, for GS and IGR-I (exact
   q(b|x)) and truncated IGR-SB (Monte-Carlo q(b|x)), in graph mode, in graph mode with its
   elementwise kernels compiled with XLA (the exact argmax law, the Bernoulli
   log-likelihood), and whole with XLA (S = 100), the
   modes interleaved over ``--bound-repeats`` repeats; ``auto`` marks the mode
   ``jit_compile: auto`` picks (:func:`igr.families.use_xla`). FLOP count: the
   decoder 200 -> 256 -> 512 -> 784 costs 2 (200 x 256 + 256 x 512 + 512 x 784) =
   1.167 MFLOP per code, so S x N codes cost S x N x 1.167 MFLOP (S = 1,000 on the 10,000
   test images: 11.7 TFLOP); the **FLOP floor** is that count at the GEMM rate measured in
   this run (a [5,000 x 512] x [512 x 784] float32 matmul). Target: within 2x of it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_keras

from igr.data import InputPipeline, load_arrays
from igr.experiments.priors import learn_prior
from igr.experiments.vae import bound_evaluator, build_model
from igr.families import family_label, get_family, use_xla
from igr.training import Trainer, compile_step

FAMILIES = ("gs", "igr_i", "igr_planar", "igr_sb", "igr_sb_trunc", "st_gs", "reinmax")
MODES = {"graph": False, "xla": True}
V, K, BATCH = 20, 10, 100
FIXED_BATCHES = 20  # the in-memory batches of the steps part (the first 2,000 images)
DECODER_FLOP_PER_CODE = 2 * (V * K * 256 + 256 * 512 + 512 * 784)


def settings(family):
    return dict(  # noqa: C408
        dataset="mnist", architecture="nonlinear", family=family, likelihood="bernoulli",
        temperature=0.5, num_variables=V, num_categories=K, planar_layers=2, threshold=0.9,
        quantile=0.75, seed=1,
    )


def priors():
    fast_sb = dict(fit_temperature=0.01, num_steps=5, samples_per_step=100,  # noqa: C408
                   learning_rate=0.05, eval_samples=100, seed=1)
    sb = learn_prior("igr_sb", K, **fast_sb)
    gs = learn_prior("gs", K)
    return {"gs": gs, "igr_i": learn_prior("igr_i", K, scale=1.0),
            "igr_planar": learn_prior("igr_planar", K, scale=1.0), "igr_sb": sb,
            "igr_sb_trunc": sb, "st_gs": gs, "reinmax": gs}  # the baselines read GS's file


def make_step(loss_fn, variables, jit):
    optimizer = tf_keras.optimizers.Adam(1e-3)
    optimizer.build(variables)

    def step(x, seed):
        with tf.GradientTape() as tape:
            loss = loss_fn(x, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return compile_step(step, 1, jit)  # the Trainer's compilation (noise pool under XLA)


def plain_tfp_gs(model):
    """The same networks with TFP's RelaxedOneHotCategorical latent (KL summed over V)."""
    td = tfp.distributions

    def loss(x, seed):
        logits = tf.reshape(model.encoder(x), [-1, V, K])
        q = td.RelaxedOneHotCategorical(0.5, logits=logits)
        p = td.RelaxedOneHotCategorical(0.5, logits=tf.zeros([V, K]))
        psi = q.sample(seed=seed)
        kl = tf.reduce_sum(q.log_prob(psi) - p.log_prob(psi), axis=-1)
        out = model.decoder(tf.reshape(psi, [-1, V * K]))
        cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=out)
        reconstruction = -tf.reduce_sum(tf.reshape(cross_entropy, [tf.shape(x)[0], -1]), -1)
        return -tf.reduce_mean(reconstruction - kl)

    return loss


def dense_floor(model):
    def loss(x, seed):
        del seed
        psi = tf.nn.softmax(tf.reshape(model.encoder(x), [-1, V, K]))
        out = model.decoder(tf.reshape(psi, [-1, V * K]))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=out))

    return loss


def candidates(prior_records):
    """(name, mode, compiled step) for the floor, plain TFP GS and every family."""
    result = []
    for mode, jit in MODES.items():
        base = build_model(settings("gs"), prior_records["gs"], (28, 28, 1))
        result.append(("dense floor", mode, make_step(dense_floor(base),
                                                      base.trainable_variables, jit)))
        plain = build_model(settings("gs"), prior_records["gs"], (28, 28, 1))
        result.append(("plain TFP GS", mode, make_step(plain_tfp_gs(plain),
                                                       plain.trainable_variables, jit)))
        for family in FAMILIES:
            model = build_model(settings(family), prior_records[family], (28, 28, 1))
            loss = lambda x, s, m=model: m.loss(x, s)[0]  # noqa: E731
            result.append((family, mode, make_step(loss, model.trainable_variables, jit)))
    return result


def interleaved_rates(steps, batches, rounds, steps_per_round):
    """{(name, mode): [steps/s of each round]}, candidates round-robin (module docstring)."""
    rates = {(name, mode): [] for name, mode, _ in steps}
    for name, mode, step in steps:  # trace and warm up
        for i in range(3):
            float(step(batches[i], tf.constant(i, tf.int64)))
    counter = 3
    for round_index in range(rounds):
        shift = round_index % len(steps)
        for name, mode, step in steps[shift:] + steps[:shift]:
            started = time.perf_counter()
            for _ in range(steps_per_round):
                loss = step(batches[counter % len(batches)], tf.constant(counter, tf.int64))
                counter += 1
            float(loss)
            rates[(name, mode)].append(steps_per_round / (time.perf_counter() - started))
    return rates


def spread(values):
    q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return statistics.median(values), q1, q3


def report_steps(rates):
    medians = {key: statistics.median(values) for key, values in rates.items()}
    print("\n## Training steps (steps/s: median [IQR] over rounds; ratios of medians)\n")
    print("| step | mode | steps/s | IQR | / dense floor | / plain TFP GS |")
    print("|---|---|---|---|---|---|")
    for (name, mode), values in rates.items():
        median, q1, q3 = spread(values)
        label = family_label(name)
        floor, plain = medians[("dense floor", mode)], medians[("plain TFP GS", mode)]
        print(f"| {label} | {mode} | {median:.1f} | {q1:.1f}-{q3:.1f} | "
              f"{median / floor:.2f} | {median / plain:.2f} |")
    print("\n| family | faster mode | XLA / graph | best / its mode's floor (target >= 0.85) "
          "| auto uses |")
    print("|---|---|---|---|---|")
    for family in FAMILIES:
        graph, xla = medians[(family, "graph")], medians[(family, "xla")]
        best = "xla" if xla > graph else "graph"
        ratio = max(graph, xla) / medians[("dense floor", best)]
        auto = "xla" if use_xla(family, "training") else "graph"
        print(f"| {family_label(family)} | {best} | {xla / graph:.2f} | {ratio:.2f} | {auto} |")
    return medians


def report_epochs(data, prior_records, medians, quick, epochs):
    print("\n## Trainer epochs (jit_compile: auto; each epoch against the same steps right "
          "after it)\n")
    print("| family | mode | steps/epoch | epoch wall s (median) | the same steps s | ratio "
          "(target <= 1.1) | range | steps / part-1 rate s | epoch / that |")
    print("|---|---|---|---|---|---|---|---|---|")
    images = data.x_train[:6000] if quick else data.x_train
    for family in FAMILIES:
        jit = use_xla(family, "training")
        model = build_model(settings(family), prior_records[family], (28, 28, 1))
        optimizer = tf_keras.optimizers.Adam(1e-3)
        variables = model.trainable_variables
        optimizer.build(variables)

        def train_step(batch, seed, model=model, optimizer=optimizer, variables=variables):
            with tf.GradientTape() as tape:
                loss, metrics = model.loss(batch, seed)
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return {"loss": loss, **metrics}

        pipeline = InputPipeline(images, batch_size=BATCH, seed=1)
        index_batches = [tf.range(i * BATCH, (i + 1) * BATCH, dtype=tf.int64)
                         for i in range(FIXED_BATCHES)]
        marks = []  # (hook entered, hook left) after each epoch's steps
        trainer = None

        def same_steps(epoch, count=pipeline.batches_per_epoch):
            """The Trainer's per-epoch hook: the epoch's number of steps of the loop's own
            compiled step on fixed index batches, timed right after the epoch."""
            entered = time.perf_counter()
            for i in range(count):
                loss = trainer.compiled_step(index_batches[i % FIXED_BATCHES],
                                             tf.constant(i, tf.int64))["loss"]
            float(loss)
            marks.append((entered, time.perf_counter()))
            return {}

        with tempfile.TemporaryDirectory() as folder:
            trainer = Trainer(train_step, pipeline, trackables={"model": model,
                              "optimizer": optimizer}, output_dir=folder, num_epochs=epochs,
                              seed=1, checkpoint_every=1, jit_compile=jit, evaluate=same_steps,
                              progress_stream=open(os.devnull, "w"))  # noqa: SIM115
            trainer.fit()
        # epoch e's wall: from the end of the hook after epoch e - 1 (so it includes that
        # epoch's history write, scalars and checkpoint) to the start of the hook after e;
        # epoch 1 (tracing) is left out.
        walls = [marks[e][0] - marks[e - 1][1] for e in range(1, len(marks))]
        steps = [leave - enter for enter, leave in marks[1:]]
        ratios = [wall / same for wall, same in zip(walls, steps)]
        mode = "xla" if jit else "graph"
        expected = pipeline.batches_per_epoch / medians[(family, mode)]
        wall = statistics.median(walls)
        print(f"| {family_label(family)} | {mode} | {pipeline.batches_per_epoch} | "
              f"{wall:.2f} | {statistics.median(steps):.2f} | {statistics.median(ratios):.2f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {expected:.2f} | {wall / expected:.2f} |")


def gemm_gflops(repeats=20):
    a = tf.random.stateless_normal([5000, 512], seed=[1, 2])
    b = tf.random.stateless_normal([512, 784], seed=[3, 4])
    matmul = tf.function(lambda x, y: tf.reduce_sum(tf.matmul(x, y)))
    float(matmul(a, b))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        float(matmul(a, b))
        times.append(time.perf_counter() - started)
    return 2 * 5000 * 512 * 784 / statistics.median(times) / 1e9


#: Bound modes: (whole bound with XLA, its elementwise kernels alone with XLA).
BOUND_MODES = {
    "graph": (False, False),
    "graph, XLA kernels": (False, True),
    "xla": (True, True),
}


def report_bound(data, prior_records, quick, repeats):
    print("\n## Discrete bound on 1,000 test images (igr vae evaluate's bound_evaluator)\n")
    rate = gemm_gflops()
    print(f"GEMM rate measured in this run: {rate:.1f} GFLOP/s "
          f"(decoder: {DECODER_FLOP_PER_CODE / 1e6:.3f} MFLOP per code); {repeats} interleaved "
          "repeats per row: median [min, max]\n")
    print("| family | S | mode | auto | seconds | FLOP floor s | ratio (target <= 2) |")
    print("|---|---|---|---|---|---|---|")
    images = data.x_test[:1000]
    sizes = (100,) if quick else (100, 1000)
    families = ("gs", "igr_i") if quick else ("gs", "igr_i", "igr_sb_trunc")
    for family in families:
        model = build_model(settings(family), prior_records[family], (28, 28, 1))
        auto = (use_xla(family, "evaluation"), use_xla(family, "bound_kernels"))
        for num_samples in sizes:
            modes = {
                name: flags for name, flags in BOUND_MODES.items()
                # whole-bound XLA at S = 1,000 was 4.7-9.4x the floor (README), so it is
                # measured at S = 100 only
                if not (name == "xla" and num_samples > 100)
            }
            evaluators = {}
            for name, (jit, kernels_jit) in modes.items():
                evaluators[name] = bound_evaluator(model, num_samples, 1000, 1, 50, jit, kernels_jit)
                evaluators[name](images[:50])  # trace
            seconds = {name: [] for name in modes}
            for repeat in range(repeats):
                order = list(modes)[repeat % len(modes):] + list(modes)[:repeat % len(modes)]
                for name in order:
                    started = time.perf_counter()
                    values = evaluators[name](images)
                    seconds[name].append(time.perf_counter() - started)
                    assert np.all(np.isfinite(values))
            floor = num_samples * len(images) * DECODER_FLOP_PER_CODE / (rate * 1e9)
            for name, times in seconds.items():
                median = statistics.median(times)
                mark = "yes" if modes[name] == auto else ""
                print(f"| {family_label(family)} | {num_samples} | {name} | {mark} | "
                      f"{median:.2f} [{min(times):.2f}, {max(times):.2f}] | {floor:.2f} | "
                      f"{median / floor:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smaller run, about a minute (leaves out the epochs)")
    parser.add_argument("--rounds", type=int, default=None, help="default 15 (quick: 5)")
    parser.add_argument("--steps", type=int, default=None, help="per round; default 40 (quick: 15)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="Trainer epochs (the first is left out); default 4 (quick: 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bound-repeats", type=int, default=None,
                        help="interleaved repeats of each bound mode; default 3 (quick: 1)")
    parser.add_argument("--skip", nargs="*", default=None, choices=("steps", "epochs", "bound"),
                        help="parts to leave out (epochs need steps); default none "
                             "(quick: epochs, whose 60-step epochs mostly time a checkpoint)")
    args = parser.parse_args()
    if args.skip is None:
        args.skip = ("epochs",) if args.quick else ()
    rounds = args.rounds or (5 if args.quick else 15)
    steps_per_round = args.steps or (15 if args.quick else 40)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    started = time.perf_counter()
    data = load_arrays("mnist")
    batches = [tf.constant(data.x_train[i * BATCH:(i + 1) * BATCH]) for i in range(FIXED_BATCHES)]
    prior_records = priors()
    print(f"# bench_vae: {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"{args.threads} threads, tensorflow {tf.__version__}"
          f"{', quick' if args.quick else ''}; {rounds} rounds x {steps_per_round} steps")
    if "steps" not in args.skip:
        steps = candidates(prior_records)
        rates = interleaved_rates(steps, batches, rounds, steps_per_round)
        medians = report_steps(rates)
    if "epochs" not in args.skip and "steps" not in args.skip:
        report_epochs(data, prior_records, medians, args.quick,
                      args.epochs or (3 if args.quick else 4))
    if "bound" not in args.skip:
        report_bound(data, prior_records, args.quick, args.bound_repeats or (1 if args.quick else 3))
    print(f"\n(total {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
