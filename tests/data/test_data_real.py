"""The real MNIST and Fashion-MNIST, read from IGR_DATA_DIR (CI: the offline copies in shared/data).

Skipped, with the reason, when IGR_DATA_DIR is not set.
"""

from __future__ import annotations

import dataclasses
import gzip
import shutil

import numpy as np
import pytest

from igr.cli import main as igr_main
from igr.data import registry
from igr.data.errors import DatasetError
from igr.data.fetch import fetch_dataset
from igr.data.loading import VERIFIED, class_counts, inspect_files, load_arrays, load_raw, verify_dataset

from .data_helpers import sha256

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist_raw(real_data_dir):
    return load_raw("mnist", real_data_dir)


@pytest.fixture(scope="module")
def fashion_raw(real_data_dir):
    return load_raw("fashion-mnist", real_data_dir)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_every_file_matches_its_registered_checksum(real_data_dir, name):
    statuses = inspect_files(name, real_data_dir)
    assert [s.state for s in statuses] == [VERIFIED] * 4
    spec = registry.get_spec(name)
    for status, file in zip(statuses, spec.files):
        assert status.path.name == file.name  # the .gz archives themselves
        # recomputed here, independently of igr.data.checksums
        assert sha256(gzip.decompress(status.path.read_bytes())) == file.sha256
        assert status.digest.size == file.size


def test_mnist_shapes_labels_and_pixels(mnist_raw):
    x_train, y_train, x_test, y_test = mnist_raw
    assert x_train.shape == (60_000, 28, 28, 1) and x_train.dtype == np.uint8
    assert x_test.shape == (10_000, 28, 28, 1)
    assert class_counts(y_train, 10) == MNIST_TRAIN_COUNTS
    assert class_counts(y_test, 10) == MNIST_TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert int(x_train.astype(np.int64).sum()) == 1_567_298_545
    assert int(x_test.astype(np.int64).sum()) == 264_923_200
    assert x_train.min() == 0 and x_train.max() == 255


def test_mnist_binarised_default(real_data_dir):
    arrays = load_arrays("mnist", real_data_dir)
    assert arrays.x_train.dtype == np.float32
    assert set(np.unique(arrays.x_train).tolist()) == {0.0, 1.0}
    assert arrays.x_train.mean() == pytest.approx(0.132258, abs=1e-6)  # share of pixels > 0.5
    assert arrays.x_test.mean() == pytest.approx(0.134229, abs=1e-6)


def test_mnist_grey_levels_and_flattening(real_data_dir):
    arrays = load_arrays("mnist", real_data_dir, binarize=False, flatten=True)
    assert arrays.x_train.shape == (60_000, 784) and arrays.x_test.shape == (10_000, 784)
    assert float(arrays.x_train.mean()) == pytest.approx(0.130660, abs=1e-5)  # the well-known 0.1307
    assert float(arrays.x_train.std()) == pytest.approx(0.308108, abs=1e-5)  # and 0.3081
    assert 0.0 <= arrays.x_train.min() and arrays.x_train.max() == 1.0


def test_fashion_mnist_shapes_labels_and_pixels(real_data_dir, fashion_raw):
    assert fashion_raw.x_train.shape == (60_000, 28, 28, 1)
    assert class_counts(fashion_raw.y_train, 10) == [6000] * 10
    assert class_counts(fashion_raw.y_test, 10) == [1000] * 10
    assert fashion_raw.y_train[:5].tolist() == [9, 0, 0, 3, 0]
    grey = load_arrays("fashion-mnist", real_data_dir)  # default: grey levels (Gaussian likelihood)
    assert float(grey.x_train.mean()) == pytest.approx(0.286041, abs=1e-5)
    assert float(grey.x_train.std()) == pytest.approx(0.353024, abs=1e-5)
    assert float(grey.x_test.mean()) == pytest.approx(0.286849, abs=1e-5)
    assert len(np.unique(grey.x_train[:100])) > 200  # really grey levels
    binary = load_arrays("fashion-mnist", real_data_dir, binarize=True)
    assert float(binary.x_train.mean()) == pytest.approx(0.314658, abs=1e-6)


@pytest.fixture
def mnist_copy(real_data_dir, tmp_path):
    """A writable copy of the real MNIST folder."""
    shutil.copytree(real_data_dir / "mnist", tmp_path / "mnist")
    for path in (tmp_path / "mnist").iterdir():
        path.chmod(0o644)
    return tmp_path


def _assert_clear_error(error: DatasetError, path, expected_sha: str):
    message = str(error)
    assert str(path) in message
    assert expected_sha in message
    assert "igr data fetch mnist" in message and "IGR_DATA_DIR" in message


def test_flipped_byte_in_an_archive_is_rejected(mnist_copy):
    target = mnist_copy / "mnist" / "train-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(DatasetError) as caught:
        load_arrays("mnist", mnist_copy)
    _assert_clear_error(caught.value, target, registry.MNIST.files[1].sha256)
    assert "truncated or corrupted" in str(caught.value)


def test_data_info_exits_non_zero_for_a_corrupted_file(mnist_copy, capsys):
    from igr.cli import main as igr_main

    assert igr_main(["data", "info", "mnist", "--data-dir", str(mnist_copy)]) == 0
    assert capsys.readouterr().out.count(": verified") == 4
    target = mnist_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-100])
    assert igr_main(["data", "info", "mnist", "--data-dir", str(mnist_copy)]) == 1
    out = capsys.readouterr().out
    assert "t10k-labels-idx1-ubyte.gz: corrupted" in out and out.count(": verified") == 3


def test_truncated_archive_is_rejected(mnist_copy):
    target = mnist_copy / "mnist" / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[: 1_000_000])
    with pytest.raises(DatasetError) as caught:
        verify_dataset("mnist", mnist_copy)
    _assert_clear_error(caught.value, target, registry.MNIST.files[2].sha256)
    assert "cannot be decompressed" in str(caught.value)


def test_decompressed_and_recompressed_copies_validate(mnist_copy):
    folder = mnist_copy / "mnist"
    labels = folder / "train-labels-idx1-ubyte.gz"
    (folder / "train-labels-idx1-ubyte").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    images = folder / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes()), compresslevel=1, mtime=0))
    statuses = inspect_files("mnist", mnist_copy)
    assert [s.state for s in statuses] == [VERIFIED] * 4
    assert statuses[1].path.name == "train-labels-idx1-ubyte"
    assert class_counts(load_raw("mnist", mnist_copy).y_train, 10) == MNIST_TRAIN_COUNTS


def test_flipped_byte_in_a_decompressed_copy_names_both_checksums(mnist_copy):
    folder = mnist_copy / "mnist"
    content = bytearray(gzip.decompress((folder / "train-labels-idx1-ubyte.gz").read_bytes()))
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    content[100] = (content[100] + 1) % 10
    target = folder / "train-labels-idx1-ubyte"
    target.write_bytes(bytes(content))
    with pytest.raises(DatasetError) as caught:
        load_arrays("mnist", mnist_copy)
    _assert_clear_error(caught.value, target, registry.MNIST.files[1].sha256)
    assert sha256(bytes(content)) in str(caught.value)  # the actual checksum


def test_truncated_decompressed_copy_reports_its_size(mnist_copy):
    folder = mnist_copy / "mnist"
    content = gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    target = folder / "t10k-labels-idx1-ubyte"
    target.write_bytes(content[:5000])
    with pytest.raises(DatasetError, match="its content is 5,000 bytes, expected 10,008") as caught:
        verify_dataset("mnist", mnist_copy)
    _assert_clear_error(caught.value, target, registry.MNIST.files[3].sha256)


def test_missing_file_is_named(mnist_copy):
    target = mnist_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    with pytest.raises(DatasetError, match="is missing") as caught:
        load_arrays("mnist", mnist_copy)
    _assert_clear_error(caught.value, target, registry.MNIST.files[3].sha256)


def test_fetch_on_a_complete_copy_downloads_nothing(real_data_dir, http_server, monkeypatch):
    """The shared copy is read-only: fetching must verify it in place and never write or download."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    served = tuple(
        dataclasses.replace(file, urls=(http_server.serve("/" + file.name, b"never used"),))
        for file in registry.MNIST.files
    )
    spec = dataclasses.replace(registry.MNIST, files=served)
    outcomes = fetch_dataset(spec, real_data_dir, progress=False, quiet=True)
    assert [o.action for o in outcomes] == ["already verified"] * 4
    assert [o.sha256 for o in outcomes] == [f.sha256 for f in registry.MNIST.files]
    assert http_server.requests == []


def test_data_dir_from_environment(real_data_dir, monkeypatch, capsys):
    monkeypatch.setenv("IGR_DATA_DIR", str(real_data_dir))
    assert igr_main(["data", "info", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert out.count(": verified") == 4
    assert str(real_data_dir / "fashion-mnist") in out
