"""``tf.data`` input pipelines over preprocessed in-memory arrays.

Design (spec section 9 lists what the reference code got wrong: it shuffled before caching,
so every epoch repeated one order, and its CelebA epochs covered only part of the data):

- Preprocessing runs once, before the pipeline (:func:`igr.data.loading.load_arrays`); the
  preprocessed arrays are held in memory as tensors and are the pipeline's cache. Nothing
  after that point transforms pixels except the cheap uint8 -> float32 scaling of CelebA.
- Each epoch visits a fresh permutation of ALL training examples, drawn with a stateless
  shuffle seeded by ``(seed, epoch)``: the order is a pure function of the seed and the epoch
  number, independent of TensorFlow's global seed, of how many epochs were iterated before,
  and of the process (resuming at epoch k reproduces epoch k).
- Batches are gathered from the cached tensors by index (one vectorised gather per batch).
  The training loop takes an epoch's index batches (:meth:`InputPipeline.epoch_index_batches`)
  and gathers each inside its compiled step: in a bare loop a ``tf.data`` iterator's
  ``next`` cost about 0.6 ms of an 8 ms MNIST step on 2 cores (README "Benchmarks"). The
  ``tf.data`` form (:meth:`InputPipeline.epochs`: the same batches, prefetched) is for other
  consumers. The last, smaller batch is kept by default (``drop_remainder=False``), so
  every example is seen every epoch; with ``drop_remainder=True`` the few examples dropped
  differ from epoch to epoch.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def _as_tensor(array: np.ndarray | tf.Tensor) -> tf.Tensor:
    return tf.convert_to_tensor(array)


def _to_float_pixels(images: tf.Tensor) -> tf.Tensor:
    """uint8 grey levels -> float32 in [0, 1]; float inputs are passed through as float32."""
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


class InputPipeline:
    """Shuffled training batches and ordered evaluation batches of one array of images.

    ``images``: (N, ...) float32 in [0, 1] or uint8 (scaled to float32 per batch).
    ``labels``: (N,) or None. Batches are ``images`` alone, or ``(images, labels)`` when
    ``with_labels`` is True.
    """

    def __init__(
        self,
        images: np.ndarray | tf.Tensor,
        labels: np.ndarray | tf.Tensor | None = None,
        *,
        batch_size: int,
        seed: int,
        drop_remainder: bool = False,
        with_labels: bool = False,
    ):
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        if with_labels and labels is None:
            raise ValueError("with_labels=True needs labels")
        self.images = _as_tensor(images)
        self.labels = _as_tensor(labels) if labels is not None and with_labels else None
        self.num_examples = int(self.images.shape[0])
        if self.labels is not None and int(self.labels.shape[0]) != self.num_examples:
            raise ValueError("images and labels differ in length")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.drop_remainder = bool(drop_remainder)

    @property
    def batches_per_epoch(self) -> int:
        full, rest = divmod(self.num_examples, self.batch_size)
        return full + (1 if rest and not self.drop_remainder else 0)

    def epoch_order(self, epoch: int | tf.Tensor) -> tf.Tensor:
        """The permutation of example indices visited in ``epoch`` (int64, length N)."""
        stateless_seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(epoch, tf.int64)])
        indices = tf.range(self.num_examples, dtype=tf.int64)
        return tf.random.experimental.stateless_shuffle(indices, seed=stateless_seed)

    def gather(self, indices: tf.Tensor):
        """The batch of examples ``indices``: images (float32), with labels if asked for."""
        images = _to_float_pixels(tf.gather(self.images, indices))
        if self.labels is None:
            return images
        return images, tf.gather(self.labels, indices)

    def _cut(self, order: tf.Tensor, batch_size: int, drop_remainder: bool):
        """``(full [n, batch_size], rest or None)``: ``order`` cut into index batches with one
        reshape (about twice as fast as batching a dataset of single indices); the smaller
        last batch ``rest`` is kept unless it is dropped."""
        num_full = self.num_examples // batch_size
        full = tf.reshape(order[: num_full * batch_size], [num_full, batch_size])
        keep_rest = self.num_examples % batch_size and not drop_remainder
        return full, (order[num_full * batch_size :] if keep_rest else None)

    def epoch_index_batches(self, epoch: int) -> list[tf.Tensor]:
        """The index batches of ``epoch``, in order: ``gather`` of each is the batch
        :meth:`epoch` yields (the training loop gathers in its compiled step, without a
        ``tf.data`` iterator in the loop)."""
        full, rest = self._cut(self.epoch_order(epoch), self.batch_size, self.drop_remainder)
        batches = tf.unstack(full) if full.shape[0] else []
        return batches + ([rest] if rest is not None else [])

    def _batches_of(
        self, order: tf.Tensor, batch_size: int, drop_remainder: bool
    ) -> tf.data.Dataset:
        """Batches of examples taken in ``order`` (a permutation of all indices)."""
        full, rest = self._cut(order, batch_size, drop_remainder)
        index_batches = tf.data.Dataset.from_tensor_slices(full)
        if rest is not None:
            index_batches = index_batches.concatenate(tf.data.Dataset.from_tensors(rest))
        return index_batches.map(self.gather)

    def epoch(self, epoch: int) -> tf.data.Dataset:
        """Shuffled batches of one epoch."""
        batches = self._batches_of(self.epoch_order(epoch), self.batch_size, self.drop_remainder)
        return batches.prefetch(tf.data.AUTOTUNE)

    def epochs(self, num_epochs: int, start_epoch: int = 0) -> tf.data.Dataset:
        """Shuffled batches of epochs ``start_epoch .. start_epoch + num_epochs - 1``, in order."""
        epoch_numbers = tf.data.Dataset.range(start_epoch, start_epoch + num_epochs)
        batches = epoch_numbers.flat_map(
            lambda epoch: self._batches_of(
                self.epoch_order(epoch), self.batch_size, self.drop_remainder
            )
        )
        return batches.prefetch(tf.data.AUTOTUNE)

    def in_order(self, batch_size: int | None = None) -> tf.data.Dataset:
        """All examples in stored order, last batch kept (for evaluation)."""
        order = tf.range(self.num_examples, dtype=tf.int64)
        batches = self._batches_of(order, batch_size or self.batch_size, drop_remainder=False)
        return batches.prefetch(tf.data.AUTOTUNE)


def training_pipeline(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int,
    seed: int,
    drop_remainder: bool = False,
    with_labels: bool = False,
) -> InputPipeline:
    """Shorthand for :class:`InputPipeline` (the training set of a :class:`DatasetArrays`)."""
    return InputPipeline(
        images,
        labels,
        batch_size=batch_size,
        seed=seed,
        drop_remainder=drop_remainder,
        with_labels=with_labels,
    )


def evaluation_batches(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    batch_size: int,
    with_labels: bool = False,
) -> tf.data.Dataset:
    """Test-set batches in stored order, the last batch kept."""
    pipeline = InputPipeline(images, labels, batch_size=batch_size, seed=0, with_labels=with_labels)
    return pipeline.in_order()


def evaluation_slices(images: np.ndarray, *, batch_size: int):
    """The batches of :func:`evaluation_batches` (stored order, last batch kept, float32 in
    [0, 1]) as plain slices, without tf.data: tearing down a tf.data iterator can block
    until about 10.25 s after it was created (TF 2.21 autotuning), which dominated a
    timed evaluation loop."""
    for start in range(0, len(images), batch_size):
        yield _to_float_pixels(tf.convert_to_tensor(images[start:start + batch_size]))
