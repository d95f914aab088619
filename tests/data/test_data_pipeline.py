"""The tf.data input pipeline: every example every epoch, a fresh order per epoch that is a
pure function of (seed, epoch), batching, uint8 scaling and prefetching."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from igr.data.pipeline import InputPipeline, evaluation_batches, evaluation_slices  # noqa: E402

NUM_EXAMPLES = 1_050
BATCH = 100


def _images_carrying_their_index(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Image i holds i / count everywhere, so a batch tells which examples it holds."""
    index = np.arange(count)
    images = np.broadcast_to((index / count).astype(np.float32)[:, None, None, None], (count, 4, 4, 1)).copy()
    return images, index.astype(np.int64)


def _epoch_labels(dataset) -> list[np.ndarray]:
    return [labels.numpy() for _, labels in dataset]


@pytest.fixture(scope="module")
def pipeline():
    images, labels = _images_carrying_their_index(NUM_EXAMPLES)
    return InputPipeline(images, labels, batch_size=BATCH, seed=5328, with_labels=True)


def test_every_example_is_seen_once_per_epoch(pipeline):
    batches = list(pipeline.epoch(0))
    assert pipeline.batches_per_epoch == 11 == len(batches)
    assert [int(x.shape[0]) for x, _ in batches] == [100] * 10 + [50]  # last batch kept
    seen = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(seen.tolist()) == list(range(NUM_EXAMPLES))
    for images, labels in batches:  # images stay paired with their labels
        np.testing.assert_allclose(images.numpy()[:, 0, 0, 0], labels.numpy() / NUM_EXAMPLES, rtol=1e-6)
        assert images.dtype == tf.float32 and images.shape[1:] == (4, 4, 1)


def test_order_is_fresh_each_epoch_and_a_function_of_seed_and_epoch(pipeline):
    epoch0 = np.concatenate(_epoch_labels(pipeline.epoch(0)))
    epoch1 = np.concatenate(_epoch_labels(pipeline.epoch(1)))
    assert not np.array_equal(epoch0, epoch1)
    assert not np.array_equal(epoch0, np.arange(NUM_EXAMPLES))  # shuffled at all
    # Iterating again, or building a new pipeline, gives the same orders:
    np.testing.assert_array_equal(np.concatenate(_epoch_labels(pipeline.epoch(1))), epoch1)
    images, labels = _images_carrying_their_index(NUM_EXAMPLES)
    rebuilt = InputPipeline(images, labels, batch_size=BATCH, seed=5328, with_labels=True)
    np.testing.assert_array_equal(np.concatenate(_epoch_labels(rebuilt.epoch(0))), epoch0)
    # ... independent of TensorFlow's global seed:
    tf.random.set_seed(1234)
    try:
        np.testing.assert_array_equal(np.concatenate(_epoch_labels(rebuilt.epoch(0))), epoch0)
    finally:
        tf.random.set_seed(None)
    # ... and of the process (values recorded from another run, TF 2.21 on CPU):
    assert epoch0[:8].tolist() == [161, 1030, 343, 125, 393, 857, 922, 804]
    assert epoch1[:8].tolist() == [392, 37, 674, 746, 636, 942, 373, 218]
    other_seed = InputPipeline(images, labels, batch_size=BATCH, seed=5945, with_labels=True)
    assert not np.array_equal(np.concatenate(_epoch_labels(other_seed.epoch(0))), epoch0)


def test_multi_epoch_stream_matches_single_epochs_and_resumes(pipeline):
    stream = np.concatenate(_epoch_labels(pipeline.epochs(3)))
    assert stream.shape == (3 * NUM_EXAMPLES,)
    singles = [np.concatenate(_epoch_labels(pipeline.epoch(e))) for e in range(3)]
    np.testing.assert_array_equal(stream, np.concatenate(singles))
    resumed = np.concatenate(_epoch_labels(pipeline.epochs(2, start_epoch=1)))
    np.testing.assert_array_equal(resumed, np.concatenate(singles[1:]))


def test_drop_remainder_drops_different_examples_each_epoch():
    images, labels = _images_carrying_their_index(NUM_EXAMPLES)
    dropping = InputPipeline(images, labels, batch_size=BATCH, seed=49, drop_remainder=True, with_labels=True)
    assert dropping.batches_per_epoch == 10
    kept = [set(np.concatenate(_epoch_labels(dropping.epoch(e))).tolist()) for e in range(4)]
    assert all(len(k) == 1_000 for k in kept)
    assert len(set.union(*kept)) > 1_000  # the dropped 50 change from epoch to epoch


def test_images_only_uint8_scaling_and_evaluation_order():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(230, 8, 8, 3), dtype=np.uint8)
    pipeline = InputPipeline(pixels, None, batch_size=64, seed=9337)
    batch = next(iter(pipeline.epoch(0)))
    assert isinstance(batch, tf.Tensor) and batch.dtype == tf.float32  # images only
    assert 0.0 <= float(tf.reduce_min(batch)) and float(tf.reduce_max(batch)) <= 1.0
    ordered = np.concatenate([b.numpy() for b in evaluation_batches(pixels, batch_size=100)])
    np.testing.assert_allclose(ordered, pixels / 255.0, rtol=1e-6)
    slices = [b.numpy() for b in evaluation_slices(pixels, batch_size=100)]
    assert [len(b) for b in slices] == [100, 100, 30]
    assert all(b.dtype == np.float32 for b in slices)
    np.testing.assert_array_equal(np.concatenate(slices), ordered)
    with pytest.raises(ValueError, match="with_labels=True needs labels"):
        InputPipeline(pixels, None, batch_size=10, seed=0, with_labels=True)


@pytest.mark.parametrize("drop_remainder", [False, True])
def test_index_batches_gather_the_batches_of_the_tf_data_epoch(drop_remainder):
    """What the Trainer runs on (``epoch_index_batches`` + ``gather``) is, batch by batch,
    exactly what ``epoch`` yields: the same order, sizes and pixels (uint8 scaled)."""
    images, labels = _images_carrying_their_index(NUM_EXAMPLES)
    pixels = (images * 255).astype(np.uint8)
    pipeline = InputPipeline(pixels, labels, batch_size=BATCH, seed=77,
                             drop_remainder=drop_remainder, with_labels=True)
    for epoch in (0, 3):
        expected = list(pipeline.epoch(epoch))
        got = [pipeline.gather(indices) for indices in pipeline.epoch_index_batches(epoch)]
        assert len(got) == len(expected) == (10 if drop_remainder else 11)
        for (x_got, y_got), (x_expected, y_expected) in zip(got, expected):
            np.testing.assert_array_equal(y_got.numpy(), y_expected.numpy())
            np.testing.assert_array_equal(x_got.numpy(), x_expected.numpy())
            assert x_got.dtype == tf.float32
