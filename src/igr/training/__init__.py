"""igr.training: a model-agnostic training loop with checkpoints, resume and safety checks.

Used by the VAE stage (:mod:`igr.experiments.vae`) and meant for any other stage that trains
with minibatches (SOP). Nothing here knows about VAEs: a stage supplies a step function, the
trackable objects to checkpoint, and a tf.data pipeline.

API (:mod:`igr.training.trainer`)::

    from igr.training import Trainer, TrainingDiverged, TrainingPreempted, step_seed

    def train_step(batch, seed):          # seed: int32 [2] stateless seed of this step
        with tf.GradientTape() as tape:
            loss, metrics = model.loss(batch, seed)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {"loss": loss, **metrics}  # scalar tensors; "loss" is required

    trainer = Trainer(
        train_step,                       # compiled by the Trainer: tf.function(jit_compile=jit)
        pipeline,                         # igr.data.InputPipeline (order = f(seed, epoch))
        trackables={"model": model, "optimizer": optimizer},  # what a checkpoint holds
        output_dir="results/vae/run",     # checkpoints/, history.csv, tensorboard/
        num_epochs=300,
        seed=5328,                        # step seeds: step_seed(seed, global_step)
        checkpoint_every=10,              # epochs; the last epoch is always saved
        evaluate=lambda epoch: {"test_elbo": ...},   # optional, after each epoch -> history
        jit_compile=False,
    )
    result = trainer.fit()                # resumes from the latest checkpoint if there is one

Behaviour:

- Checkpoint: one ``tf.train.Checkpoint`` of the trackables plus the counters ``epoch``
  (completed epochs), ``step`` (global step) and the running sums of the current epoch's
  metrics, managed by a ``tf.train.CheckpointManager`` in ``output_dir/checkpoints`` (the
  last ``max_to_keep`` kept). ``fit`` restores the latest one first, so rerunning a job
  continues where it stopped.
- Determinism: the batch order of epoch e is a pure function of (pipeline seed, e) and the
  random seed of global step t is ``step_seed(seed, t)``, a stateless function (no RNG
  state to save). A mid-epoch checkpoint (SIGTERM) records the step, and a resumed epoch
  skips the batches already done, so an interrupted and resumed run is bit-identical on the
  CPU to an uninterrupted one (tests/vae/test_training.py kills a run with SIGKILL).
- SIGTERM (cluster pre-emption): a handler (:mod:`igr.training.preemption`, installed by
  the command at start-up and by ``fit``) sets a flag that the loop checks at start, before
  every step and around each evaluation; the loop then saves a checkpoint and raises
  :class:`TrainingPreempted`; the CLI exits with :data:`EXIT_PREEMPTED` (75, EX_TEMPFAIL:
  "try again"), so the rerun resumes.
- Settings-bound resume: the stages call :func:`igr.training.run_folder.prepare_run_folder`
  before building the Trainer, so a run folder is resumed only by a run of the same
  fingerprint (other settings move it aside and start fresh).
- NaN/Inf: the loss (and every metric) is checked after every step; a non-finite value
  raises :class:`TrainingDiverged` at once, naming the epoch and step, without saving, so
  the last good checkpoint stays the latest (CLI exit status :data:`EXIT_DIVERGED`, 3).
- History: ``history.csv``, one row per epoch (``epoch``, ``step``, the mean of each step
  metric over the epoch's batches, the ``evaluate`` metrics, ``seconds``), rewritten
  atomically after each epoch; rows after the restored checkpoint are dropped on resume.
- TensorBoard: the same per-epoch scalars under ``output_dir/tensorboard``.
- Progress: a one-line bar on stderr when it is a terminal, otherwise one plain log line
  per epoch.
"""

import importlib

#: Names re-exported from :mod:`igr.training.trainer`, imported lazily so that the TF-free
#: modules :mod:`igr.training.run_folder` and :mod:`igr.training.preemption` stay cheap.
_TRAINER_EXPORTS = (
    "EXIT_DIVERGED",
    "EXIT_PREEMPTED",
    "FitResult",
    "Trainer",
    "TrainingDiverged",
    "TrainingPreempted",
    "compile_step",
    "step_seed",
)

__all__ = list(_TRAINER_EXPORTS)


def __getattr__(name: str):
    if name in _TRAINER_EXPORTS:
        return getattr(importlib.import_module("igr.training.trainer"), name)
    raise AttributeError(f"module 'igr.training' has no attribute {name!r}")
