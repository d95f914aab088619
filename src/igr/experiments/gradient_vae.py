"""Gradient-estimator study, trained VAEs: variance and signal-to-noise ratio of the encoder
gradient of the training objective at a run's final checkpoint (``igr gradients vae``).

For each train record (``igr vae train``) the model is restored from its final checkpoint
and, on ``num_batches`` fixed batches of the training set (the first ``num_batches x B``
images in order, B the run's batch size), the gradient of the run's training objective

    loss(x_b; eps) = -mean_B [ log p(x | psi) - beta KL ],   beta the KL weight of the run's
                                                             last training step (1 without,
                                                             or after, warm-up),

with respect to the encoder network's parameters (P of them; IGR-Planar's global flow
parameters are not the encoder's and are left out) is drawn ``repeats`` times with
independent latent noise eps (stateless seeds ``(seed, 4_000_000 + b * repeats + j)``).
For batch b, with ``m`` the mean and ``s_i^2`` the per-coordinate variance over the R draws:

- ``variance = sum_i s_i^2`` (trace of the covariance of one draw);
- ``signal = ||m||^2 - variance / R``, an unbiased estimate of ``||E g||^2``;
- ``relative_variance = variance / signal`` (the toy study's statistic; inverse SNR);
- ``snr = sqrt(signal / variance)``;
- ``median_coordinate_snr = median_i |m_i| / s_i`` over coordinates with ``s_i > 0``.

Each is averaged over the batches and given with its standard error over batches
(``sd / sqrt(num_batches)``). The table (``vae.csv``) has one row per run and names the
run's family, temperature, objective (relaxed or categorical KL) and final KL per variable,
so that a collapsed posterior (whose encoder gradient is noise around nothing) is visible.
``igr gradients vae`` writes one run's row as a JSON record (in the run's folder in the
pipeline); ``igr gradients summarize --vae-runs`` gathers the rows into ``vae.csv``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from igr.errors import InputError

#: Offset of the stateless seeds of the repeated draws (training steps use small offsets,
#: the ELBO 1e6, the bound 2e6, the diagnostics 3e6).
SEED_OFFSET = 4_000_000

COLUMN_DESCRIPTIONS: dict[str, str] = {
    "dataset": "dataset of the run",
    "architecture": "encoder/decoder architecture",
    "family": "relaxed family (igr.families name)",
    "seed": "the run's seed",
    "temperature": "tau of the run",
    "objective": "the run's KL term (relaxed or categorical; train record 'objective')",
    "kl_weight": "beta of the run's last training step (the objective differentiated)",
    "kl_per_variable": "mean KL per latent variable at the end of training (nats)",
    "num_batches": "fixed training batches",
    "batch_size": "images per batch (the run's batch size)",
    "repeats": "R, single-sample gradient draws per batch",
    "encoder_parameters": "P, the encoder network's parameters",
    "variance": "trace of the covariance of one draw (mean over batches)",
    "variance_se": "standard error over batches",
    "signal": "||E g||^2, unbiased estimate ||m||^2 - variance / R (mean over batches)",
    "signal_se": "standard error over batches",
    "relative_variance": "variance / signal (mean over batches; inverse signal-to-noise ratio)",
    "relative_variance_se": "standard error over batches",
    "snr": "sqrt(signal / variance) (mean over batches)",
    "snr_se": "standard error over batches",
    "median_coordinate_snr": "median over coordinates of |m_i| / s_i (mean over batches)",
    "median_coordinate_snr_se": "standard error over batches",
    "train_record": "the train record of the run",
    "seconds": "wall-clock seconds of the run's draws",
}
COLUMNS: tuple[str, ...] = tuple(COLUMN_DESCRIPTIONS)
#: Per-batch statistics averaged over batches.
BATCH_STATISTICS = ("variance", "signal", "relative_variance", "snr", "median_coordinate_snr")


def batch_statistics(total: np.ndarray, total_sq: np.ndarray, repeats: int) -> dict[str, float]:
    """The statistics of one batch (module docstring) from ``sum_j g_j`` and
    ``sum_j g_j^2`` [P] (float64) over ``repeats`` draws."""
    mean = total / repeats
    per_coordinate = np.maximum(total_sq - repeats * mean**2, 0.0) / (repeats - 1)
    variance = float(per_coordinate.sum())
    signal = float(mean @ mean - variance / repeats)
    sd = np.sqrt(per_coordinate)
    moving = sd > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "variance": variance,
            "signal": signal,
            "relative_variance": variance / signal if signal > 0 else math.inf,
            "snr": math.sqrt(max(signal, 0.0) / variance) if variance > 0 else math.inf,
            "median_coordinate_snr": float(np.median(np.abs(mean[moving]) / sd[moving]))
            if moving.any()
            else math.inf,
        }


def summarize_batches(per_batch: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean over batches and its standard error ``sd / sqrt(n)`` of each statistic."""
    summary = {}
    for name in BATCH_STATISTICS:
        values = np.array([b[name] for b in per_batch], dtype=float)
        summary[name] = float(values.mean())
        summary[f"{name}_se"] = (
            float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
        )
    return summary


def final_kl_weight(record: dict[str, Any]) -> float:
    """beta of the last training step: ``min(1, step / W)``, 1 without warm-up."""
    warmup = int(record["training"].get("kl_warmup_steps", 0) or 0)
    if warmup <= 0:
        return 1.0
    step = int(record["final"].get("step", warmup))
    return min(1.0, step / warmup)


def encoder_gradient_row(
    train_record: Path, num_batches: int, repeats: int, data_dir: str | None, checked=None
) -> dict[str, Any]:
    """One row of :data:`COLUMNS` for the run of ``train_record`` (``checked``: the result of
    :func:`igr.experiments.vae.check_trained_run`, when the caller has it)."""
    import tensorflow as tf

    from igr.experiments.vae import restore_trained_model

    record, model, data = restore_trained_model(train_record, data_dir, checked)
    settings = record["settings"]
    batch_size = int(record["training"]["batch_size"])
    if num_batches * batch_size > len(data.x_train):
        raise InputError(
            f"--num-batches {num_batches}: {train_record} trained on {len(data.x_train)} images, "
            f"fewer than {num_batches} batches of {batch_size}"
        )
    beta = final_kl_weight(record)
    variables = model.encoder.trainable_variables
    seed = int(settings["seed"])

    @tf.function(reduce_retracing=True, autograph=False)
    def gradient(x, index):
        draw_seed = tf.stack([tf.constant(seed, tf.int32), SEED_OFFSET + tf.cast(index, tf.int32)])
        with tf.GradientTape() as tape:
            loss, _ = model.loss(x, draw_seed, kl_weight=beta)
        return tf.concat([tf.reshape(g, [-1]) for g in tape.gradient(loss, variables)], 0)

    start = time.perf_counter()
    per_batch = []
    for b in range(num_batches):
        x = tf.constant(data.x_train[b * batch_size : (b + 1) * batch_size])
        total = total_sq = None
        for j in range(repeats):
            g = gradient(x, tf.constant(b * repeats + j, tf.int64)).numpy().astype(np.float64)
            total = g if total is None else total + g
            total_sq = g * g if total_sq is None else total_sq + g * g
        per_batch.append(batch_statistics(total, total_sq, repeats))
    final = record.get("final", {})
    kl = final.get("kl")
    return {
        "dataset": settings["dataset"],
        "architecture": settings["architecture"],
        "family": settings["family"],
        "seed": seed,
        "temperature": settings["temperature"],
        "objective": (record.get("objective") or {}).get("kl", ""),
        "kl_weight": beta,
        "kl_per_variable": float(kl) / int(settings["num_variables"]) if kl is not None else math.nan,
        "num_batches": num_batches,
        "batch_size": batch_size,
        "repeats": repeats,
        "encoder_parameters": int(sum(int(np.prod(v.shape)) for v in variables)),
        **summarize_batches(per_batch),
        "train_record": str(train_record),
        "seconds": time.perf_counter() - start,
    }


def _run(args: argparse.Namespace) -> int:
    from igr import provenance
    from igr.experiments._common import configure_threads
    from igr.experiments._inputs import check_output_path
    from igr.experiments.vae import check_trained_run
    from igr.io import write_json_atomic

    if args.num_batches < 2:
        raise InputError(f"--num-batches: must be >= 2 (standard errors), got {args.num_batches}")
    if args.repeats < 2:
        raise InputError(f"--repeats: must be >= 2, got {args.repeats}")
    check_output_path(args.output, "--output")
    checked = check_trained_run(args.train_record)  # before any work
    configure_threads(args.threads)
    row = encoder_gradient_row(
        args.train_record, args.num_batches, args.repeats, args.data_dir, checked
    )
    write_json_atomic(args.output, {
        "study": "gradients_vae",
        "row": row,
        "settings": {"num_batches": args.num_batches, "repeats": args.repeats,
                     "seed_offset": SEED_OFFSET},
        "columns": COLUMN_DESCRIPTIONS,
        "provenance": provenance.collect(),
    })
    print(f"gradients vae: {args.train_record}: relative variance "
          f"{row['relative_variance']:.4g}, SNR {row['snr']:.3g} ({row['seconds']:.1f} s) "
          f"-> {args.output}")
    return 0


def read_rows(paths: Sequence[Path]):
    """The table (:data:`COLUMNS`) of the records that ``igr gradients vae`` wrote."""
    import pandas as pd

    from igr.io import read_json

    rows = []
    for path in paths:
        try:
            record = read_json(path)
        except (OSError, ValueError) as error:
            raise InputError(f"{path}: cannot be read as JSON ({error})") from None
        if not isinstance(record, dict) or record.get("study") != "gradients_vae":
            raise InputError(f"{path}: not a record of igr gradients vae")
        rows.append(record["row"])
    return pd.DataFrame(rows, columns=list(COLUMNS))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``igr gradients vae``."""
    from igr.commands import command_group

    p = command_group(subparsers, "gradients").add_parser(
        "vae",
        help="variance and SNR of the encoder gradient of a trained VAE (final checkpoint)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("train_record", type=Path, help="train.json of igr vae train")
    p.add_argument("--output", required=True, type=Path,
                   help="JSON record (the run's row, settings, provenance) to write")
    p.add_argument("--num-batches", type=int, default=5, help="fixed training batches")
    p.add_argument("--repeats", type=int, default=100,
                   help="single-sample gradient draws per batch")
    p.add_argument("--data-dir", default=None,
                   help="data folder; default $IGR_DATA_DIR, else resources/data")
    p.add_argument("--threads", type=int, default=None,
                   help="TensorFlow intra- and inter-op threads (default: TensorFlow's choice)")
    p.set_defaults(func=_run)
