"""Stage "sop" (spec section 6): structured output prediction, ``igr sop train|evaluate|summarize``.

Predict the lower half of a binarised image from its upper half with the ``double_linear``
network of stochastic binary units (:mod:`igr.models.sop`), one run per (family, seed).

- ``igr sop train``: Adam with the step-decayed learning rate
  ``max(floor, initial / (1 + decay t))`` (spec: 1e-3, 1e-3, 1e-4), batch 100, loss
  ``-log p(x_low | z)`` with M = 1 relaxed sample (for the baselines ST-GS and ReinMax the
  0/1 value with the estimator's gradient, :mod:`igr.models.sop`); the loop is
  :class:`igr.training.Trainer` (checkpoints every N epochs and at the end, SIGTERM ->
  checkpoint and exit 75, resume from the latest checkpoint, NaN/Inf -> exit 3,
  ``history.csv``). The run folder resumes only
  a run of the same fingerprint (every setting but the epochs, plus the data's sha256; see
  :mod:`igr.training.run_folder`): other settings move it aside and start fresh, more epochs
  extend it. Writes a JSON record (settings, fingerprint, final training loss, checkpoint).
- ``igr sop evaluate`` (or ``igr sop train --evaluation-output``, which saves a second
  TensorFlow start-up per run; the pipeline uses it): restores the checkpoint and computes on the test set the loss
  ``-log (1/M) sum_m p(x_low | z_m)`` with M (1,000) hard samples of the units, the same
  loss with one relaxed sample, and for the first few test images the predicted lower half
  (mean Bernoulli probability over the M hard samples).
- ``igr sop summarize``: table over seeds (mean and sd per family), figure of predicted
  lower halves next to the truth, and the claim check (:mod:`igr.reporting.sop`).

Randomness: initialisation from ``seed``; the batch order of epoch e from ``(seed, e)``;
training step t uses ``step_seed(seed, t)``; test batch i uses ``(seed, 4_000_000 + i)``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from igr import provenance
from igr.commands import command_group
from igr.data.registry import DATASETS
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
    read_train_record,
    resolve_temperature,
)
from igr.families import families_of_stage
from igr.io import write_json_atomic

#: Families of the binary units (from the TF-free registry igr.families).
SOP_FAMILIES: tuple[str, ...] = families_of_stage("sop")

#: Settings of a run; all but ``epochs`` enter its fingerprint (igr.training.run_folder).
RUN_SETTINGS = (
    "family",
    "dataset",
    "hidden_units",
    "temperature",
    "planar_layers",
    "epochs",
    "batch_size",
    "learning_rate",
    "learning_rate_decay",
    "learning_rate_floor",
    "seed",
)
TEST_SEED_OFFSET = 4_000_000


def load_data(dataset: str, data_dir: str | None):
    """Binarised train and test images (N, H, W, 1) of ``dataset``."""
    from igr.data import load_arrays

    return load_arrays(dataset, data_dir, binarize=True)


def build_model(settings: dict[str, Any], image_shape):
    from igr.models.sop import DoubleLinearSOP, half_size

    size = half_size(image_shape)
    return DoubleLinearSOP(
        family=settings["family"],
        input_size=size,
        output_size=size,
        hidden_units=settings["hidden_units"],
        temperature=settings["temperature"],
        seed=settings["seed"],
        planar_layers=settings["planar_layers"],
    )


def run_fingerprint_settings(settings: dict[str, Any], data_id: dict[str, str]) -> dict[str, Any]:
    """What defines a SOP run's result: its settings but the epochs, the data, and how an
    IGR-Planar run draws (:func:`igr.experiments._common.draws_identity`)."""
    fingerprint = {"stage": "sop", **{k: v for k, v in settings.items() if k != "epochs"}}
    fingerprint["data"] = data_id
    fingerprint.update(draws_identity(settings["family"]))
    return fingerprint


def train(
    settings: dict[str, Any], run_dir: Path, data_dir: str | None, checkpoint_every: int
) -> dict[str, Any]:
    """Train (or resume) one run; returns the train record. Raises the Trainer's stops."""
    import tensorflow as tf

    from igr.data import InputPipeline
    from igr.models.sop import split_halves, step_decay_schedule
    from igr.training import Trainer
    from igr.training.optimizer import adam
    from igr.training.run_folder import data_identity, prepare_run_folder

    data = load_data(settings["dataset"], data_dir)
    fingerprint_settings = run_fingerprint_settings(
        settings, data_identity(settings["dataset"], data)
    )
    start = prepare_run_folder(run_dir, fingerprint_settings, settings["epochs"])
    print(f"igr sop train: {start.describe()}", file=sys.stderr)
    model = build_model(settings, data.x_train.shape[1:])
    optimizer = adam(
        step_decay_schedule(
            settings["learning_rate"],
            settings["learning_rate_decay"],
            settings["learning_rate_floor"],
        )
    )
    variables = model.trainable_variables
    optimizer.build(variables)  # slots exist before a restore (Trainer contract)

    def train_step(batch, seed):
        x_up, x_low = split_halves(batch)
        with tf.GradientTape() as tape:
            loss = model.loss(x_up, x_low, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {"loss": loss, "learning_rate": optimizer.learning_rate}

    pipeline = InputPipeline(data.x_train, batch_size=settings["batch_size"], seed=settings["seed"])
    trainer = Trainer(
        train_step,
        pipeline,
        trackables={"model": model, "optimizer": optimizer},
        output_dir=run_dir,
        num_epochs=settings["epochs"],
        seed=settings["seed"],
        checkpoint_every=checkpoint_every,
        tensorboard=False,
    )
    result = trainer.fit()
    last = result.history[-1]
    return {
        "settings": settings,
        "fingerprint": start.fingerprint,
        "fingerprint_settings": fingerprint_settings,
        "run_start": start.as_record(),
        "run_dir": str(run_dir),
        "checkpoint": trainer.manager.latest_checkpoint,
        "resumed": start.action == "resumed",
        "resumed_from_epoch": result.resumed_epoch,
        "first_epoch_loss": float(result.history[0]["loss"]),
        "final_train_loss": float(last["loss"]),
        "history": [
            {"epoch": int(row["epoch"]), "loss": float(row["loss"])} for row in result.history
        ],
    }


def evaluate(
    record: dict[str, Any],
    data_dir: str | None,
    num_samples: int,
    batch_size: int,
    eval_examples: int,
    num_predictions: int,
) -> dict[str, Any]:
    """Test losses (M hard samples; one relaxed sample) and predicted lower halves."""
    import tensorflow as tf

    from igr.data.pipeline import evaluation_batches
    from igr.models.sop import split_halves

    from igr.training.run_folder import check_run_matches, check_same_data

    settings = record["settings"]
    check_run_matches(record["run_dir"], record["fingerprint"], "the train record")
    data = load_data(settings["dataset"], data_dir)
    check_same_data(
        "the train record", record["fingerprint_settings"]["data"], settings["dataset"], data
    )
    model = build_model(settings, data.x_train.shape[1:])
    tf.train.Checkpoint(model=model).restore(record["checkpoint"]).expect_partial()
    images = data.x_test[:eval_examples] if eval_examples else data.x_test
    seed = settings["seed"]

    @tf.function(reduce_retracing=True, autograph=False)
    def batch_losses(batch, index):
        x_up, x_low = split_halves(batch)
        batch_seed = tf.stack([tf.constant(seed, tf.int32), TEST_SEED_OFFSET + index])
        hard_seed, relaxed_seed = tf.unstack(tf.random.experimental.stateless_split(batch_seed, 2))
        hard = model.loss_per_example(x_up, x_low, hard_seed, num_samples, hard=True)
        relaxed = model.loss_per_example(x_up, x_low, relaxed_seed, 1, hard=False)
        return hard, relaxed

    hard_losses, relaxed_losses = [], []
    for index, batch in enumerate(evaluation_batches(images, batch_size=batch_size)):
        hard, relaxed = batch_losses(batch, tf.constant(index, tf.int32))
        hard_losses.append(hard.numpy())
        relaxed_losses.append(relaxed.numpy())
    hard_all = np.concatenate(hard_losses).astype(np.float64)
    relaxed_all = np.concatenate(relaxed_losses).astype(np.float64)

    shown = tf.constant(images[:num_predictions])
    x_up, _ = split_halves(shown)
    predictions = model.predict_lower(x_up, tf.constant([seed, TEST_SEED_OFFSET - 1]), num_samples)
    return {
        "settings": settings,
        "temperature_source": record.get("temperature_source", {"kind": "given"}),
        "fingerprint": record["fingerprint"],
        "test_examples": len(images),
        "num_samples": num_samples,
        "test_loss": float(np.mean(hard_all)),
        "test_loss_sd_over_examples": float(np.std(hard_all)),
        "test_loss_relaxed_one_sample": float(np.mean(relaxed_all)),
        "final_train_loss": record["final_train_loss"],
        "image_shape": list(images.shape[1:]),
        "truth": np.asarray(images[:num_predictions], np.float64).reshape(len(shown), -1).tolist(),
        "predicted_lower": predictions.numpy().astype(np.float64).tolist(),
    }


# --------------------------------------------------------------------------- CLI


def _run_train(args: argparse.Namespace) -> int:
    """``igr sop train``: SIGTERM at any point after start-up exits 75 (see preemption)."""
    from igr.training import preemption

    with preemption.guard():
        return _train_command(args)


def _train_command(args: argparse.Namespace) -> int:
    from igr.training import preemption

    for path, option in ((args.output, "--output"), (args.evaluation_output, "--evaluation-output")):
        check_output_path(path, option)
    check_run_dir(args.run_dir)
    args.temperature, temperature_source = resolve_temperature(args, args.family, 2)

    from igr.training import (
        EXIT_DIVERGED,
        EXIT_PREEMPTED,
        TrainingDiverged,
        TrainingPreempted,
    )

    configure_threads(args.threads)
    settings = {name: getattr(args, name) for name in RUN_SETTINGS}
    try:
        record = train(settings, Path(args.run_dir), args.data_dir, args.checkpoint_every)
    except TrainingPreempted as stop:
        print(f"igr sop train: {stop}", file=sys.stderr)
        return EXIT_PREEMPTED
    except TrainingDiverged as stop:
        print(f"igr sop train: {stop}", file=sys.stderr)
        return EXIT_DIVERGED
    record["temperature_source"] = temperature_source
    print(
        f"{args.dataset} {args.family} seed {args.seed}: training loss "
        f"{record['first_epoch_loss']:.3f} (epoch 1) -> {record['final_train_loss']:.3f}"
        f" (epoch {args.epochs}), resumed from epoch {record['resumed_from_epoch']}"
    )
    if preemption.stop_requested():
        return preemption.preempted_after_training("igr sop train")
    if args.evaluation_output is not None:
        _evaluate_and_write(record, args, args.evaluation_output)
    if preemption.stop_requested():
        return preemption.preempted_after_training("igr sop train")
    preemption.pause_point("final-write", args.run_dir)
    record["provenance"] = provenance.collect()
    write_json_atomic(args.output, record)
    if preemption.stop_requested():
        return preemption.preempted_after_training("igr sop train")
    return 0


def _evaluate_and_write(record: dict[str, Any], args: argparse.Namespace, output: Path) -> None:
    result = evaluate(
        record,
        args.data_dir,
        args.num_samples,
        args.eval_batch_size,
        args.eval_examples,
        args.num_predictions,
    )
    result["provenance"] = provenance.collect()
    write_json_atomic(output, result)
    settings = result["settings"]
    print(
        f"{settings['dataset']} {settings['family']} seed {settings['seed']}: test loss "
        f"{result['test_loss']:.3f} (M = {args.num_samples} hard samples)"
    )


def _run_evaluate(args: argparse.Namespace) -> int:
    check_output_path(args.output, "--output")
    record = read_train_record(args.train_record)
    configure_threads(args.threads)
    _evaluate_and_write(record, args, args.output)
    return 0


def _add_evaluation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num-samples", type=positive_int, default=1000, help="M")
    parser.add_argument("--eval-batch-size", type=positive_int, default=300)
    parser.add_argument("--eval-examples", type=non_negative_int, default=0, help="0: all")
    parser.add_argument("--num-predictions", type=positive_int, default=8)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr sop train`` and ``igr sop evaluate``."""
    commands = command_group(
        subparsers,
        "sop",
        help="structured output prediction (spec section 6): train, evaluate, summarize",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    t = commands.add_parser("train", help="train one (family, seed) run, resuming if possible")
    t.add_argument("--family", required=True, choices=SOP_FAMILIES)
    t.add_argument(
        "--dataset", required=True, choices=sorted(DATASETS), help="mnist (paper) or digits (offline)"
    )
    t.add_argument("--data-dir", default=None)
    t.add_argument("--hidden-units", type=positive_int, required=True, help="paper: 240")
    add_temperature_options(t, " of every unit (K = 2)")
    t.add_argument("--planar-layers", type=positive_int, default=2, help="IGR-Planar only")
    t.add_argument("--epochs", type=positive_int, required=True)
    t.add_argument("--batch-size", type=positive_int, default=100)
    t.add_argument("--learning-rate", type=positive_float, default=1e-3, help="initial rate")
    t.add_argument("--learning-rate-decay", type=positive_float, default=1e-3)
    t.add_argument("--learning-rate-floor", type=positive_float, default=1e-4)
    t.add_argument("--seed", type=int, required=True)
    t.add_argument("--checkpoint-every", type=positive_int, default=10, help="epochs")
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--run-dir", required=True, type=Path, help="checkpoints and history")
    t.add_argument("--output", required=True, type=Path, help="train record (JSON)")
    t.add_argument(
        "--evaluation-output",
        type=Path,
        default=None,
        help="also evaluate after training (as igr sop evaluate) and write its JSON here",
    )
    _add_evaluation_options(t)
    t.set_defaults(func=_run_train)

    e = commands.add_parser("evaluate", help="test loss with M hard samples, predictions")
    e.add_argument("--train-record", required=True, type=Path)
    e.add_argument("--data-dir", default=None)
    _add_evaluation_options(e)
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--output", required=True, type=Path)
    e.set_defaults(func=_run_evaluate)
