"""The generic training loop (see the :mod:`igr.training` docstring for the API contract).

One :class:`Trainer` runs a compiled step function over the epochs of an
:class:`igr.data.InputPipeline`: each epoch's permutation cut into index batches
(``pipeline.epoch_index_batches``), each batch gathered inside the compiled step
(``pipeline.gather``), so no ``tf.data`` iterator runs in the loop. In a bare loop an
iterator's ``next`` cost about 0.6 ms of an 8 ms MNIST step on 2 cores (interleaved against
in-memory batches; README "Benchmarks"), and in TF 2.21 destroying a per-epoch iterator
over a prefetching pipeline could block until its autotuner gave up, about 10 s after it
was created. Checkpoints (every N epochs, at the end, and on
SIGTERM), resume, per-step stateless seeds, NaN/Inf detection, a history CSV, TensorBoard
scalars and progress output.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tensorflow as tf

from igr.io import write_csv_atomic
from igr.training import preemption
from igr.training.compiled import compile_step, step_seed  # noqa: F401 (step_seed re-exported)
from igr.training.preemption import EXIT_PREEMPTED  # noqa: F401 (re-exported)
from igr.training.progress import duration
#: Exit status of a run stopped by a NaN or Inf (the last good checkpoint is kept).
EXIT_DIVERGED = 3

HISTORY_FILE = "history.csv"
CHECKPOINT_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"


class TrainingPreempted(RuntimeError):
    """SIGTERM arrived; a checkpoint was saved at ``step`` and the run should be rerun."""

    def __init__(self, epoch: int, step: int):
        super().__init__(
            f"SIGTERM received: checkpoint saved at epoch {epoch}, step {step}; rerun to resume"
        )
        self.epoch, self.step = epoch, step


class TrainingDiverged(FloatingPointError):
    """A loss or metric became NaN/Inf; nothing was saved after the last good checkpoint."""

    def __init__(self, epoch: int, step: int, name: str, value: float):
        super().__init__(
            f"non-finite {name} = {value} at epoch {epoch}, step {step} "
            "(training stopped; the last good checkpoint is kept)"
        )
        self.epoch, self.step, self.name, self.value = epoch, step, name, value


def _write_scalar(name: str, value: float, step: int) -> None:
    """A TensorBoard scalar through ``tf.summary.write`` (works without the tensorboard
    package; the metadata marks it for TensorBoard's scalars plugin)."""
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    tf.summary.write(name, tf.constant(float(value), tf.float32), step=step, metadata=metadata)


@dataclass
class FitResult:
    """What :meth:`Trainer.fit` did: the full history and where it started from."""

    history: list[dict[str, float]] = field(default_factory=list)
    resumed_epoch: int = 0
    resumed_step: int = 0
    final_step: int = 0


class _Progress:
    """A one-line progress bar on a terminal, and one line per epoch everywhere:
    ``epoch i/N | elapsed 12s | ETA 48s | loss ... | <metrics>``, with the ETA from the mean
    wall time of the epochs this process ran (resumed epochs are not counted)."""

    def __init__(self, num_epochs: int, steps_per_epoch: int, stream=None, start_epoch: int = 0):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.num_epochs, self.steps_per_epoch = num_epochs, steps_per_epoch
        self.start_epoch = start_epoch
        self.started = time.monotonic()
        self._last = 0.0

    def step(self, epoch: int, done: int, loss: float) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.steps_per_epoch:
            return
        self._last = now
        width = 30
        filled = int(width * done / max(self.steps_per_epoch, 1))
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(
            f"\repoch {epoch}/{self.num_epochs} [{bar}] {done}/{self.steps_per_epoch} "
            f"loss {loss:.4g}"
        )
        self.stream.flush()

    def epoch_line(self, row: Mapping[str, Any]) -> str:
        completed = int(row["epoch"])
        elapsed = time.monotonic() - self.started
        per_epoch = elapsed / max(completed - self.start_epoch, 1)
        eta = per_epoch * (self.num_epochs - completed)
        metrics = ", ".join(
            f"{key} {value:.6g}" if isinstance(value, float) else f"{key} {value}"
            for key, value in row.items()
            if key != "epoch"
        )
        return (
            f"epoch {completed}/{self.num_epochs} | elapsed {duration(elapsed)} | "
            f"ETA {duration(eta)} | {metrics}"
        )

    def epoch(self, row: Mapping[str, Any]) -> None:
        self.stream.write(("\r" if self.tty else "") + self.epoch_line(row) + "\n")
        self.stream.flush()


class Trainer:
    """Train with a step function over epochs, checkpointing and resuming (module docs).

    Args:
      step_fn: ``step_fn(batch, seed) -> {"loss": scalar, ...}``; it applies the update
        itself. It is compiled by :func:`igr.training.compiled.compile_step` (graph mode, or
        XLA with the step's noise drawn outside XLA).
      pipeline: an :class:`igr.data.InputPipeline` (``epoch_index_batches(epoch)``,
        ``gather(indices)``, ``batches_per_epoch``).
      trackables: objects saved in the checkpoint (model, optimizer, ...), with all their
        variables created (build the optimizer: ``optimizer.build(variables)``), so that a
        restore is complete at once and a checkpoint saved before the first step after a
        resume still holds every variable.
      output_dir: folder of ``checkpoints/``, ``history.csv`` and ``tensorboard/``.
      num_epochs: total epochs (a resumed run stops at the same epoch).
      seed: base of the per-step seeds :func:`step_seed`.
      checkpoint_every: save after every this many epochs (and after the last one).
      evaluate: optional ``evaluate(epoch) -> {name: float}`` run after each epoch.
      evaluate_every: run ``evaluate`` every this many epochs (and after the last one).
      max_to_keep: checkpoints kept by the manager.
      jit_compile: compile the step with XLA (:mod:`igr.training.compiled`).
      tensorboard: write TensorBoard scalars.
      progress_stream: where progress goes (stderr by default).
    """

    def __init__(
        self,
        step_fn: Callable[[Any, tf.Tensor], Mapping[str, tf.Tensor]],
        pipeline: Any,
        *,
        trackables: Mapping[str, Any],
        output_dir: str | Path,
        num_epochs: int,
        seed: int,
        checkpoint_every: int = 1,
        evaluate: Callable[[int], Mapping[str, float]] | None = None,
        evaluate_every: int = 1,
        max_to_keep: int = 2,
        jit_compile: bool = False,
        tensorboard: bool = True,
        progress_stream=None,
    ):
        if num_epochs < 1 or checkpoint_every < 1 or evaluate_every < 1:
            raise ValueError("num_epochs, checkpoint_every and evaluate_every must be >= 1")
        self.pipeline = pipeline
        self.output_dir = Path(output_dir)
        self.num_epochs = int(num_epochs)
        self.seed = int(seed)
        self.checkpoint_every = int(checkpoint_every)
        self.evaluate = evaluate
        self.evaluate_every = int(evaluate_every)
        self.tensorboard = tensorboard
        self.progress_stream = progress_stream
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Running metric sums of a partly done epoch (JSON), so a mid-epoch resume matches.
        self.partial_epoch = tf.Variable("", dtype=tf.string, trainable=False, name="partial")
        self.checkpoint = tf.train.Checkpoint(
            epoch=self.epoch, step=self.step, partial_epoch=self.partial_epoch, **trackables
        )
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(self.output_dir / CHECKPOINT_DIR), max_to_keep=max_to_keep
        )
        self._step = compile_step(step_fn, self.seed, jit_compile, batch_of=pipeline.gather)
        self._stop_requested = False
        self._pause_step = preemption.pause_step()

    @property
    def compiled_step(self):
        """``compiled_step(indices, step) -> metrics``: the step the loop runs, on the batch
        ``pipeline.gather(indices)`` (benchmarks time it on its own, against the epochs)."""
        return self._step

    # ------------------------------------------------------------------ signals

    def request_stop(self) -> None:
        """Ask the loop to checkpoint and stop before the next step (what SIGTERM does)."""
        self._stop_requested = True

    @property
    def stop_requested(self) -> bool:
        """SIGTERM arrived (:mod:`igr.training.preemption`) or :meth:`request_stop` was called."""
        return self._stop_requested or preemption.stop_requested()

    def _preempt(self, epoch: int, step: int, sums: Mapping[str, float]) -> None:
        """Save the state before step ``step`` of epoch ``epoch`` (0-based) and stop."""
        self.epoch.assign(epoch)
        self.step.assign(step)
        self.partial_epoch.assign(json.dumps(dict(sums)))
        self._save()
        raise TrainingPreempted(epoch, step)

    # ------------------------------------------------------------------ history

    @property
    def history_path(self) -> Path:
        return self.output_dir / HISTORY_FILE

    def _load_history(self, completed_epochs: int) -> list[dict[str, float]]:
        if completed_epochs == 0 or not self.history_path.exists():
            return []
        import pandas as pd

        frame = pd.read_csv(self.history_path)
        frame = frame[frame["epoch"] <= completed_epochs]
        return frame.to_dict("records")

    def _write_history(self, history: list[dict[str, float]]) -> None:
        import pandas as pd

        write_csv_atomic(self.history_path, pd.DataFrame(history))

    # ------------------------------------------------------------------ loop

    def _save(self) -> None:
        self.manager.save(checkpoint_number=int(self.step.numpy()))

    def fit(self) -> FitResult:
        """Run (or resume) training to ``num_epochs``; see the module docstring."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(
                self.manager.latest_checkpoint
            ).assert_existing_objects_matched()
        start_epoch, step = int(self.epoch.numpy()), int(self.step.numpy())
        result = FitResult(resumed_epoch=start_epoch, resumed_step=step)
        history = self._load_history(start_epoch)
        steps_per_epoch = int(self.pipeline.batches_per_epoch)
        progress = _Progress(
            self.num_epochs, steps_per_epoch, self.progress_stream, start_epoch=start_epoch
        )
        writer = (
            tf.summary.create_file_writer(str(self.output_dir / TENSORBOARD_DIR))
            if self.tensorboard
            else None
        )
        try:
            with preemption.guard():
                if self.stop_requested:  # SIGTERM during start-up (data loading, model)
                    self._preempt(start_epoch, step, json.loads(
                        self.partial_epoch.numpy().decode() or "{}"))
                for epoch in range(start_epoch, self.num_epochs):
                    step = self._run_epoch(epoch, step, steps_per_epoch, progress, history, writer)
            result.final_step = step
        finally:
            if writer is not None:
                writer.close()
        result.history = history
        return result

    def _run_epoch(self, epoch, step, steps_per_epoch, progress, history, writer) -> int:
        """Epoch ``epoch`` (0-based) from ``step`` on (a resumed epoch skips its done batches)."""
        done = step - epoch * steps_per_epoch
        partial = self.partial_epoch.numpy().decode()
        sums: dict[str, float] = json.loads(partial) if done > 0 and partial else {}
        started = time.perf_counter()
        for indices in self.pipeline.epoch_index_batches(epoch)[done:]:
            if self._pause_step == step:
                preemption.pause_point(f"step:{step}", self.output_dir)
            if self.stop_requested:
                self._preempt(epoch, step, sums)
            metrics = self._step(indices, tf.constant(step, tf.int64))
            values = {name: float(value) for name, value in metrics.items()}
            for name, value in values.items():
                if not math.isfinite(value):
                    raise TrainingDiverged(epoch + 1, step + 1, name, value)
            step += 1
            done += 1
            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
            progress.step(epoch + 1, done, values["loss"])
        row: dict[str, Any] = {"epoch": epoch + 1, "step": step}
        row.update({name: total / max(done, 1) for name, total in sums.items()})
        completed = epoch + 1
        last = completed == self.num_epochs
        if self.evaluate is not None and (completed % self.evaluate_every == 0 or last):
            if self.stop_requested:
                self._preempt(epoch, step, sums)
            evaluated = self.evaluate(completed)
            preemption.pause_point(f"evaluation:{completed}", self.output_dir)
            if self.stop_requested:  # SIGTERM during the evaluation: it reruns on resume
                self._preempt(epoch, step, sums)
            for name, value in evaluated.items():
                value = float(value)
                if not math.isfinite(value):
                    raise TrainingDiverged(completed, step, name, value)
                row[name] = value
        row["seconds"] = time.perf_counter() - started
        history.append(row)
        self._write_history(history)
        if writer is not None:
            with writer.as_default():
                for name, value in row.items():
                    if name not in ("epoch", "step"):
                        _write_scalar(name, value, completed)
            writer.flush()
        progress.epoch(row)
        self.epoch.assign(completed)
        self.step.assign(step)
        self.partial_epoch.assign("")
        if completed % self.checkpoint_every == 0 or last:
            self._save()
        return step
