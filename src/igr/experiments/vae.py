"""Stage "vae" (spec section 5): train and evaluate discrete VAEs.

``igr vae train`` trains one (dataset, architecture, family, seed) with
:class:`igr.training.Trainer` (checkpoints, resume, SIGTERM, NaN checks; see
:mod:`igr.training`) and writes ``--output`` (a JSON record of the settings, the run folder
and the final metrics) and ``--history`` (per-epoch CSV: train loss, KL, reconstruction,
test relaxed ELBO, categories used by truncated IGR-SB, seconds). Everything else
(checkpoints, TensorBoard, the history being written) lives in ``--run-dir``, which a rerun
resumes from.

``igr vae evaluate`` restores the final checkpoint and writes, for the test set:
``test_elbo`` (relaxed ELBO, one sample per example), ``discrete_bound`` (the
importance-sampled bound of :meth:`igr.models.vae.DiscreteVAE.discrete_bound` with S
samples; exact q for GS, IGR-I, ST-GS and ReinMax, Monte Carlo otherwise, stated in
``discrete_bound_q``),
vertex distances of posterior samples (summary and a subsample for the boxplots) and the
share of examples with vanished gradients (Jacobian norm <= 1e-10).

Both records carry ``objective`` (:func:`objective_record`): the value the decoder reads
(``forward``) and the KL of the objective (``kl``: ``relaxed`` or ``categorical``), each in
words. For the baselines ST-GS and ReinMax (one-hot forward values, the exact categorical KL
to the uniform prior) ``test_elbo`` is the discrete ELBO ``log p(x | b) - sum_v KL_v`` at one
exact draw ``b ~ Cat(softmax(logits))``, the bound's q is exact, and the relaxation gap and
vertex distances are 0 by construction.

Training: Adam (tf-keras, beta1 0.9, beta2 0.999, eps 1e-7) on all variables, loss
``-mean_B [log p(x|psi) - sum_v KL_v]``, one relaxed sample per example (one one-hot
code with its straight-through gradient for ST-GS and ReinMax), step seed
``step_seed(seed, global step)``, batch order from ``(seed, epoch)``, initial weights from
``seed``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from igr import provenance
from igr.commands import command_group
from igr.data.registry import DATASETS
from igr.errors import InputError
from igr.families import (
    FORWARDS,
    JIT_SETTINGS,
    KLS,
    UNIFORM_PRIOR_TOLERANCE,
    families_of_stage,
    get_family,
    logits_spread,
    use_xla,
    xla_parts,
)
from igr.experiments._common import (
    configure_threads,
    draws_identity,
    non_negative_int,
    positive_float,
    positive_int,
)
from igr.experiments._inputs import (
    add_temperature_options,
    check_output_path,
    check_run_dir,
    read_prior_file,
    read_train_record,
    resolve_temperature,
)
from igr.io import write_json_atomic

FAMILIES = families_of_stage("vae")
ARCHITECTURES = ("linear", "nonlinear", "conv")

#: Settings of a run that decide its model (stored in the train record, reused by evaluate).
MODEL_SETTINGS = (
    "dataset",
    "architecture",
    "family",
    "likelihood",
    "temperature",
    "num_variables",
    "num_categories",
    "planar_layers",
    "threshold",
    "quantile",
    "seed",
)


def objective_record(family: str) -> dict[str, str]:
    """What the objective of ``family``'s VAE is, for the records (module docstring)."""
    record = get_family(family)
    one_hot = record.forward != "relaxed"
    return {
        "forward": record.forward,
        "forward_description": FORWARDS[record.forward],
        "kl": record.kl,
        "kl_description": KLS[record.kl],
        "test_elbo": (
            "discrete ELBO log p(x|b) - sum_v KL_v at one exact one-hot b ~ Cat(softmax(logits))"
            if one_hot
            else "relaxed ELBO log p(x|psi) - sum_v KL_v at one relaxed draw psi ~ q"
        ),
        "relaxation_gap": (
            "0 by construction: the decoder reads one-hot codes"
            if one_hot
            else "log p(x|psi) - log p(x|one_hot(argmax psi)) on the same draws"
        ),
    }


def default_likelihood(dataset: str) -> str:
    """Bernoulli for the binarised datasets, Gaussian for grey levels/colour (spec 5)."""
    from igr.data import get_spec

    return "bernoulli" if get_spec(dataset).binarize_by_default else "gaussian"


def load_data(dataset: str, data_dir: str | None):
    from igr.data import load_arrays

    return load_arrays(dataset, data_dir)


def build_model(settings: dict[str, Any], prior: dict[str, Any], image_shape):
    """The :class:`DiscreteVAE` of a settings record (same weights for the same seed)."""
    from igr.models.latent import Latent
    from igr.models.vae import DiscreteVAE

    latent = Latent(
        settings["family"],
        settings["num_variables"],
        settings["num_categories"],
        settings["temperature"],
        prior,
        planar_layers=settings["planar_layers"],
        threshold=settings["threshold"],
        quantile=settings["quantile"],
        seed=settings["seed"],
    )
    return DiscreteVAE(
        settings["architecture"], image_shape, latent, settings["likelihood"], settings["seed"]
    )


def elbo_evaluator(model, batch_size: int, seed: int):
    """``evaluate(images) -> mean relaxed ELBO`` (one sample per example, batch b seeded
    ``(seed, 1_000_000 + b)``), compiled once so that per-epoch calls do not retrace."""
    import tensorflow as tf

    from igr.data.pipeline import evaluation_slices

    @tf.function(reduce_retracing=True, autograph=False)
    def batch_elbo(x, index):
        batch_seed = tf.stack([tf.constant(seed, tf.int32), 1_000_000 + tf.cast(index, tf.int32)])
        return tf.reduce_sum(model.elbo_terms(x, batch_seed)["elbo"])

    def evaluate(images) -> float:
        total = 0.0
        for index, x in enumerate(evaluation_slices(images, batch_size=batch_size)):
            total += float(batch_elbo(x, tf.constant(index, tf.int64)))
        return total / len(images)

    return evaluate


def bound_evaluator(
    model, num_samples: int, argmax_samples: int, seed: int, batch_size: int, jit: bool,
    kernels_jit: bool = False,
):
    """``bounds(images, advance=None) -> float32 [N]``: the importance-sampled discrete
    bound of every image (:meth:`igr.models.vae.DiscreteVAE.discrete_bound`, S =
    ``num_samples`` draws batched with the images: one decoder call on [S * B] codes per
    batch of B = ``batch_size``), batch b seeded ``(seed, 2_000_000 + b)``; the batch step
    is compiled once (with XLA when ``jit``; only its elementwise kernels with XLA when
    ``kernels_jit``: the exact argmax law and the Bernoulli log-likelihood), ``advance(n)`` is
    called after each batch."""
    import tensorflow as tf

    from igr.data.pipeline import evaluation_slices

    @tf.function(reduce_retracing=True, jit_compile=jit, autograph=False)
    def batch_bound(x, index):
        return model.discrete_bound(
            x,
            num_samples,
            argmax_samples,
            tf.stack([tf.constant(seed, tf.int32), 2_000_000 + tf.cast(index, tf.int32)]),
            kernels_jit=kernels_jit,
        )

    def bounds(images, advance=None) -> np.ndarray:
        values = []  # plain slices: no tf.data iterator teardown stall (evaluation_slices)
        for index, x in enumerate(evaluation_slices(images, batch_size=batch_size)):
            values.append(batch_bound(x, tf.constant(index, tf.int64)).numpy())
            if advance is not None:
                advance(len(values[-1]))
        return np.concatenate(values)

    return bounds


#: How the XLA training step gets its noise (igr.training.compiled); part of the fingerprint
#: of XLA runs, whose random numbers changed with it.
XLA_NOISE = "uniform pool drawn in graph mode"


def code_options(jit_compile: bool, family: str | None = None) -> dict[str, Any]:
    """The code options of a run's fingerprint: graph-mode runs keep their identity; XLA runs
    name their noise pool, IGR-Planar runs their draws (:func:`draws_identity`)."""
    options = {"jit_compile": True, "xla_noise": XLA_NOISE} if jit_compile else {"jit_compile": False}
    return {**options, **(draws_identity(family) if family else {})}


def run_fingerprint_settings(
    args: argparse.Namespace, settings: dict[str, Any], prior_sha256: str, data_id: dict
) -> dict[str, Any]:
    """Everything that defines a training run's result (:mod:`igr.training.run_folder`).

    Left out: epochs (more epochs extend a run), checkpoint cadence, threads and paths.
    """
    return {
        "stage": "vae",
        "model": settings,
        "optimizer": {"name": "adam", "learning_rate": args.learning_rate},
        "kl_warmup_steps": args.kl_warmup_steps,
        "batch_size": args.batch_size,
        "per_epoch_evaluation": {
            "every": args.eval_every,
            "examples": args.eval_examples,
            "batch_size": args.eval_batch_size,
        },
        "prior_sha256": prior_sha256,
        "data": data_id,
        "code": code_options(
            use_xla(settings["family"], "training", args.jit), settings["family"]
        ),
        "debug_nan_at_step": args.debug_nan_at_step,
    }


def check_expected_xla(family: str, command: str, args: argparse.Namespace) -> None:
    """``--expect-xla``: the parts the caller (the rules) resolved from the same table must be
    the ones this code compiles, or the job would run under a choice its params do not name."""
    if args.expect_xla is None:
        return
    chosen = xla_parts(family, command, args.jit)
    if args.expect_xla != chosen:
        raise InputError(
            f"--expect-xla {args.expect_xla}: under --jit {args.jit} this code compiles "
            f"{chosen} with XLA for {family} (igr.families); rerun Snakemake with this code"
        )


def _check_train_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """Every check that needs no TensorFlow, before any work; returns the prior record."""
    check_expected_xla(args.family, "train", args)
    check_output_path(args.output, "--output")
    check_output_path(args.history, "--history")
    check_run_dir(args.run_dir)
    args.temperature, args.temperature_source = resolve_temperature(
        args, args.family, args.num_categories
    )
    prior = read_prior_file(args.prior, args.family, args.num_categories, args.num_variables)
    check_uniform_prior(prior, args.family, f"--prior {args.prior}")
    return prior


def check_uniform_prior(prior: dict[str, Any], family: str, where: str) -> None:
    """A family with the categorical KL takes it to the uniform prior (the discrete bound's
    p(b) = K^-V): its prior file's logits must be equal (GS's learned prior is)."""
    if get_family(family).kl != "categorical":
        return
    spread = logits_spread(prior["logits"])
    if spread > UNIFORM_PRIOR_TOLERANCE:
        raise InputError(
            f"{where}: {family} takes the categorical KL to a uniform prior, but the file's "
            f"logits differ by {spread:.3g}"
        )


def train(args: argparse.Namespace) -> int:
    """``igr vae train``: SIGTERM at any point after start-up exits 75 (see preemption)."""
    from igr.training import preemption

    with preemption.guard():
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from igr.training import preemption
    from igr.training.run_folder import data_identity, prepare_run_folder, sha256_of_file

    prior = _check_train_inputs(args)
    prior_sha256 = sha256_of_file(args.prior)
    settings = {name: getattr(args, name) for name in MODEL_SETTINGS}
    settings["likelihood"] = args.likelihood or default_likelihood(args.dataset)

    import tensorflow as tf

    from igr.data import InputPipeline
    from igr.training import (
        EXIT_DIVERGED,
        EXIT_PREEMPTED,
        Trainer,
        TrainingDiverged,
        TrainingPreempted,
    )
    from igr.models.vae import kl_weight
    from igr.training.optimizer import adam

    configure_threads(args.threads)
    data = load_data(args.dataset, args.data_dir)
    fingerprint_settings = run_fingerprint_settings(
        args, settings, prior_sha256, data_identity(args.dataset, data)
    )
    start = prepare_run_folder(args.run_dir, fingerprint_settings, args.epochs)
    code = fingerprint_settings["code"]  # code_options: the compilation the run's identity names
    print(f"igr vae train: {start.describe()}", file=sys.stderr)
    tf.random.set_seed(args.seed)
    model = build_model(settings, prior, data.x_train.shape[1:])
    optimizer = adam(args.learning_rate)
    variables = model.trainable_variables
    optimizer.build(variables)  # slots exist before a restore (Trainer contract)
    nan_step = args.debug_nan_at_step

    warmup_steps = args.kl_warmup_steps

    def train_step(batch, seed):
        beta = kl_weight(optimizer.iterations, warmup_steps)
        with tf.GradientTape() as tape:
            loss, metrics = model.loss(batch, seed, kl_weight=beta)
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        if nan_step is not None:
            loss = tf.where(optimizer.iterations >= nan_step, tf.constant(np.nan), loss)
        return {"loss": loss, **metrics}

    pipeline = InputPipeline(data.x_train, batch_size=args.batch_size, seed=args.seed)
    test_images = data.x_test[: args.eval_examples] if args.eval_examples else data.x_test

    elbo_of = elbo_evaluator(model, args.eval_batch_size, args.seed)

    def evaluate(epoch: int) -> dict[str, float]:
        return {"test_elbo": elbo_of(test_images)}

    trainer = Trainer(
        train_step,
        pipeline,
        trackables={"model": model, "optimizer": optimizer},
        output_dir=args.run_dir,
        num_epochs=args.epochs,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        evaluate=evaluate,
        evaluate_every=args.eval_every,
        jit_compile=code["jit_compile"],
    )
    try:
        result = trainer.fit()
    except TrainingPreempted as stop:
        print(f"igr vae train: {stop}", file=sys.stderr)
        return EXIT_PREEMPTED
    except TrainingDiverged as stop:
        print(f"igr vae train: {stop}", file=sys.stderr)
        return EXIT_DIVERGED
    if preemption.stop_requested():
        return preemption.preempted_after_training("igr vae train")
    last = result.history[-1]
    record = {
        "settings": settings,
        "training": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "kl_warmup_steps": args.kl_warmup_steps,
            "jit_compile": code["jit_compile"],
            "jit_setting": args.jit,
            "xla_noise": code.get("xla_noise"),
            "resumed_from_epoch": result.resumed_epoch,
        },
        "fingerprint": start.fingerprint,
        "fingerprint_settings": fingerprint_settings,
        "run_start": start.as_record(),
        "temperature_source": args.temperature_source,
        "objective": objective_record(settings["family"]),
        "prior_file": str(args.prior),
        "prior_sha256": prior_sha256,
        "run_dir": str(args.run_dir),
        "checkpoint": trainer.manager.latest_checkpoint,
        "final": {key: value for key, value in last.items()},
        "provenance": provenance.collect(),
    }
    preemption.pause_point("final-write", args.run_dir)
    if args.history:
        from igr.io import atomic_path

        with atomic_path(args.history) as temporary:
            shutil.copyfile(trainer.history_path, temporary)
    write_json_atomic(args.output, record)
    if preemption.stop_requested():
        return preemption.preempted_after_training("igr vae train")
    return 0


def check_trained_run(train_record: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(record, prior)`` of a finished run, checked without TensorFlow: the run folder
    still holds the recorded run and the prior file is the one it trained with."""
    from igr.training.run_folder import check_run_matches, sha256_of_file

    record = read_train_record(train_record)
    check_run_matches(record["run_dir"], record["fingerprint"], str(train_record))
    settings = record["settings"]
    prior_path = Path(record["prior_file"])
    if not prior_path.is_file() or sha256_of_file(prior_path) != record["prior_sha256"]:
        raise InputError(
            f"{train_record}: its prior file {prior_path} is missing or changed since "
            "training; retrain"
        )
    prior = read_prior_file(
        prior_path, settings["family"], settings["num_categories"], settings["num_variables"]
    )
    return record, prior


def restore_trained_model(train_record: Path, data_dir: str | None, checked=None):
    """``(record, model, data)``: the model of a finished run at its final checkpoint, with
    the data it trained on (checked to be the same); ``checked`` is the result of
    :func:`check_trained_run` when the caller already has it."""
    import tensorflow as tf

    from igr.training.run_folder import check_same_data

    record, prior = checked if checked is not None else check_trained_run(train_record)
    settings = record["settings"]
    data = load_data(settings["dataset"], data_dir)
    check_same_data(
        str(train_record), record["fingerprint_settings"]["data"], settings["dataset"], data
    )
    model = build_model(settings, prior, data.x_train.shape[1:])
    tf.train.Checkpoint(model=model).restore(record["checkpoint"]).expect_partial()
    return record, model, data


def evaluate(args: argparse.Namespace) -> int:
    check_output_path(args.output, "--output")
    checked = check_trained_run(args.train_record)
    check_expected_xla(checked[0]["settings"]["family"], "evaluate", args)

    import tensorflow as tf

    from igr.data.pipeline import evaluation_slices
    from igr.models.vae import VANISHED_GRADIENT_THRESHOLD
    from igr.training.progress import ProgressLog

    configure_threads(args.threads)
    record, model, data = restore_trained_model(args.train_record, args.data_dir, checked)
    settings = record["settings"]
    images = data.x_test[: args.eval_examples] if args.eval_examples else data.x_test
    seed = settings["seed"]
    elbo = elbo_evaluator(model, args.batch_size, seed)(images)

    @tf.function(reduce_retracing=True, autograph=False)
    def batch_diagnostics(x, index):
        batch_seed = tf.stack([tf.constant(seed, tf.int32), 3_000_000 + tf.cast(index, tf.int32)])
        return model.diagnostics(x, batch_seed), model.psi_jacobian_norms(x, batch_seed)

    jit = use_xla(settings["family"], "evaluation", args.jit)
    kernels_jit = use_xla(settings["family"], "bound_kernels", args.jit)
    bound_progress = ProgressLog(
        f"igr vae evaluate: discrete bound (S = {args.num_importance_samples})", len(images)
    )
    bounds = bound_evaluator(
        model, args.num_importance_samples, args.argmax_samples, seed,
        args.bound_batch_size, jit, kernels_jit,
    )(images, bound_progress.advance)
    diagnostics, norms = [], []
    diagnostics_progress = ProgressLog("igr vae evaluate: diagnostics", len(images))
    for index, x in enumerate(evaluation_slices(images, batch_size=args.batch_size)):
        values, n = batch_diagnostics(x, tf.constant(index, tf.int64))
        diagnostics.append({key: value.numpy() for key, value in values.items()})
        norms.append(n.numpy())
        diagnostics_progress.advance(len(norms[-1]))
    bounds_all = bounds.astype(np.float64)
    distances_all = np.concatenate([d["vertex_distance"].ravel() for d in diagnostics])
    distances_all = distances_all.astype(np.float64)
    gaps = np.concatenate([d["relaxation_gap"] for d in diagnostics]).astype(np.float64)
    kl_per_variable = np.concatenate([d["kl_per_variable"] for d in diagnostics])
    categories = [float(d["categories_used"]) for d in diagnostics]
    norms_all = np.concatenate(norms).astype(np.float64)
    rng = np.random.default_rng(seed)
    subsample = rng.choice(
        distances_all, size=min(args.distance_subsample, distances_all.size), replace=False
    )
    exact = get_family(settings["family"]).exact_argmax
    result = {
        "settings": settings,
        "temperature_source": record.get("temperature_source", {"kind": "given"}),
        "fingerprint": record["fingerprint"],
        "objective": objective_record(settings["family"]),
        "test_examples": len(images),
        "test_elbo": elbo,
        "discrete_bound": float(np.mean(bounds_all)),
        "discrete_bound_sd": float(np.std(bounds_all)),
        "num_importance_samples": args.num_importance_samples,
        "bound_jit_compile": jit,
        "bound_kernels_jit_compile": kernels_jit,
        "discrete_bound_q": "exact"
        if exact
        else f"monte_carlo ({args.argmax_samples} draws pooled with the S draws)",
        "relaxation_gap": float(np.mean(gaps)),
        "relaxation_gap_sd": float(np.std(gaps)),
        "kl_per_variable": float(np.mean(kl_per_variable)),
        "categories_used": float(np.mean(categories)),
        "vertex_distance_median": float(np.median(distances_all)),
        "vertex_distance_mean": float(np.mean(distances_all)),
        "vertex_distances_sample": subsample.tolist(),
        "vanished_gradient_threshold": VANISHED_GRADIENT_THRESHOLD,
        "vanished_gradient_share": float(np.mean(norms_all <= VANISHED_GRADIENT_THRESHOLD)),
        "final_train": record["final"],
        "kl_warmup_steps": int(record["training"].get("kl_warmup_steps", 0)),
        "provenance": provenance.collect(),
    }
    write_json_atomic(args.output, result)
    print(
        f"{settings['dataset']} {settings['architecture']} {settings['family']} seed {seed}: "
        f"test ELBO {elbo:.3f}, discrete bound {result['discrete_bound']:.3f}, "
        f"vanished {result['vanished_gradient_share']:.3f} ({get_family(settings['family']).kl} KL)"
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr vae train`` and ``igr vae evaluate``."""
    commands = command_group(
        subparsers,
        "vae",
        help="discrete VAEs (spec section 5): train, evaluate, summarize",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    t = commands.add_parser("train", help="train one VAE (resumes from its run folder)")
    t.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    t.add_argument("--data-dir", default=None)
    t.add_argument("--architecture", required=True, choices=ARCHITECTURES)
    t.add_argument("--family", required=True, choices=FAMILIES)
    t.add_argument(
        "--likelihood",
        choices=("bernoulli", "gaussian"),
        default=None,
        help="default: bernoulli for binarised datasets, else gaussian",
    )
    t.add_argument("--prior", required=True, type=Path, help="priors-stage JSON file")
    add_temperature_options(t)
    t.add_argument("--num-variables", type=positive_int, default=20)
    t.add_argument("--num-categories", type=positive_int, default=10, help="K (K_max if truncated)")
    t.add_argument("--planar-layers", type=positive_int, default=2)
    t.add_argument("--threshold", type=positive_float, default=0.9, help="truncated IGR-SB")
    t.add_argument("--quantile", type=positive_float, default=0.75, help="truncated IGR-SB")
    t.add_argument("--epochs", required=True, type=positive_int)
    t.add_argument("--batch-size", type=positive_int, default=100)
    t.add_argument("--learning-rate", type=positive_float, default=1e-3)
    t.add_argument("--kl-warmup-steps", type=non_negative_int, default=0)
    t.add_argument("--seed", required=True, type=int)
    t.add_argument("--checkpoint-every", type=positive_int, default=1)
    t.add_argument("--eval-every", type=positive_int, default=1)
    t.add_argument("--eval-examples", type=int, default=0, help="test examples per epoch (0: all)")
    t.add_argument("--eval-batch-size", type=positive_int, default=500)
    t.add_argument(
        "--jit", choices=JIT_SETTINGS, default="auto",
        help="XLA for the training step: auto = where measured faster (igr.families)",
    )
    t.add_argument(
        "--expect-xla", default=None, metavar="PARTS",
        help="fail unless --jit compiles exactly these parts (comma list or none; the rules)",
    )
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--debug-nan-at-step", type=int, default=None, help=argparse.SUPPRESS)
    t.add_argument("--run-dir", required=True, type=Path)
    t.add_argument("--history", type=Path, default=None)
    t.add_argument("--output", required=True, type=Path)
    t.set_defaults(func=train)

    e = commands.add_parser("evaluate", help="test ELBO, discrete bound and diagnostics")
    e.add_argument("train_record", type=Path, help="JSON written by igr vae train")
    e.add_argument("--data-dir", default=None)
    e.add_argument("--num-importance-samples", type=positive_int, default=100)
    e.add_argument(
        "--argmax-samples",
        type=positive_int,
        default=1000,
        help="Monte-Carlo draws of q(b|x) (IGR-Planar, IGR-SB)",
    )
    e.add_argument("--eval-examples", type=int, default=0, help="test examples (0: all)")
    e.add_argument("--batch-size", type=positive_int, default=500)
    e.add_argument("--bound-batch-size", type=positive_int, default=50)
    e.add_argument(
        "--jit", choices=JIT_SETTINGS, default="auto",
        help="XLA for the bound: auto = where measured faster (igr.families)",
    )
    e.add_argument(
        "--expect-xla", default=None, metavar="PARTS",
        help="fail unless --jit compiles exactly these parts (comma list or none; the rules)",
    )
    e.add_argument("--distance-subsample", type=positive_int, default=2000)
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--output", required=True, type=Path)
    e.set_defaults(func=evaluate)
