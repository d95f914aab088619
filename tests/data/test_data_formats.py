"""Readers on small generated files in the real formats: Omniglot's chardata.mat, CelebA's
JPEGs with list_eval_partition.txt, the IDX header, and the bundled scikit-learn digits."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import numpy as np
import pytest
import scipy.io
from PIL import Image

from igr.data import registry
from igr.data.celeba import read_celeba_split
from igr.data.errors import DatasetError
from igr.data.idx import parse_idx
from igr.data.loading import class_counts, load_arrays, load_raw, verify_dataset
from igr.data.preprocessing import binarize, resize, to_unit_interval

from .data_helpers import idx_bytes

# ---------------------------------------------------------------- Omniglot (chardata.mat)


def _omniglot_images(count: int, seed: int) -> np.ndarray:
    """Upright 28x28 grey images with an orientation mark: a bar across the top rows."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.3, size=(count, 28, 28))
    for i in range(count):
        images[i, 0:3, : 5 + i % 20] = 1.0  # top rows, from the left
        images[i, 20, 3] = 0.55  # grey just above the threshold
    return images


def write_chardata(path, train: np.ndarray, test: np.ndarray) -> None:
    """Store images as Burda et al. do: one column per image, flattened column-major."""

    def columns(images):
        return np.stack([image.flatten(order="F") for image in images], axis=1)

    def one_hot(count):
        targets = np.zeros((50, count))
        targets[np.arange(count) % 50, np.arange(count)] = 1.0
        return targets

    scipy.io.savemat(
        path,
        {
            "data": columns(train), "target": one_hot(len(train)),
            "testdata": columns(test), "testtarget": one_hot(len(test)),
            "targetchar": np.ones((1, len(train))), "testtargetchar": np.ones((1, len(test))),
        },
    )


@pytest.fixture
def omniglot_dir(tmp_path):
    (tmp_path / "omniglot").mkdir()
    train, test = _omniglot_images(60, seed=1), _omniglot_images(12, seed=2)
    write_chardata(tmp_path / "omniglot" / "chardata.mat", train, test)
    spec = dataclasses.replace(registry.OMNIGLOT, num_train=60, num_test=12)
    return tmp_path, spec, train, test


def test_omniglot_reader_restores_upright_images_and_alphabets(omniglot_dir):
    data_dir, spec, train, test = omniglot_dir
    raw = load_raw(spec, data_dir)
    assert raw.x_train.shape == (60, 28, 28, 1) and raw.x_test.shape == (12, 28, 28, 1)
    assert raw.x_train.dtype == np.float32
    np.testing.assert_allclose(raw.x_train[..., 0], train, atol=1e-7)
    np.testing.assert_allclose(raw.x_test[..., 0], test, atol=1e-7)
    assert raw.x_train[7, 0, :12, 0].tolist() == [1.0] * 12  # the bar is along the top row
    assert raw.y_train.tolist() == [i % 50 for i in range(60)]
    assert class_counts(raw.y_train, 50)[:12] == [2] * 10 + [1, 1]


def test_omniglot_is_binarised_by_default_after_resizing(omniglot_dir):
    data_dir, spec, train, _ = omniglot_dir
    binary = load_arrays(spec, data_dir)
    assert set(np.unique(binary.x_train).tolist()) == {0.0, 1.0}
    expected = (train > 0.5).astype(np.float32)
    np.testing.assert_array_equal(binary.x_train[..., 0], expected)
    assert binary.x_train[:, 20, 3, 0].tolist() == [1.0] * 60  # 0.55 > 0.5

    small = load_arrays(spec, data_dir, image_size=(14, 14))
    assert small.x_train.shape == (60, 14, 14, 1)
    assert set(np.unique(small.x_train).tolist()) == {0.0, 1.0}  # binary AFTER resizing
    grey_small = resize(to_unit_interval(train[..., np.newaxis].astype(np.float32)), (14, 14))
    np.testing.assert_array_equal(small.x_train, binarize(grey_small))
    # The reference's order (binarise, then resize) would have left grey levels:
    assert len(np.unique(resize(binarize(train[..., np.newaxis].astype(np.float32)), (14, 14)))) > 2


def test_omniglot_registry_checks_the_burda_split_sizes(omniglot_dir):
    data_dir, _, _, _ = omniglot_dir
    with pytest.raises(DatasetError, match=r"hold 60 training and 12 test images, expected 24,345 and 8,070"):
        load_arrays("omniglot", data_dir)


def test_omniglot_damaged_file_is_rejected(tmp_path):
    (tmp_path / "omniglot").mkdir()
    target = tmp_path / "omniglot" / "chardata.mat"
    target.write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    with pytest.raises(DatasetError) as caught:
        verify_dataset("omniglot", tmp_path)
    message = str(caught.value)
    assert str(target) in message and "not in the expected format" in message
    assert "no upstream sha256 is registered" in message and "igr data fetch omniglot" in message

    scipy.io.savemat(target, {"data": np.zeros((100, 3)), "target": np.eye(50)[:, :3]})
    with pytest.raises(DatasetError, match=r"variable 'data' has shape \(100, 3\), expected \(784, N\)"):
        verify_dataset("omniglot", tmp_path)


# ---------------------------------------------------------------- CelebA (aligned JPEGs)

CELEBA_COLOURS = [(20, 40 * i, 200 - 30 * i) for i in range(6)]
CELEBA_PARTITIONS = [0, 0, 0, 0, 1, 2]


def _celeba_jpeg(face_colour) -> bytes:
    """A 178x218 image: red frame, one colour in the central 148x148 square."""
    pixels = np.zeros((218, 178, 3), dtype=np.uint8)
    pixels[...] = (255, 0, 0)
    pixels[35 : 35 + 148, 15 : 15 + 148] = face_colour
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95, subsampling=0)
    return buffer.getvalue()


def _write_celeba(folder, packed: bool) -> None:
    folder.mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(6)]
    lines = [f"{name} {part}" for name, part in zip(names, CELEBA_PARTITIONS)]
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    if packed:
        with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as archive:
            for name, colour in zip(names, CELEBA_COLOURS):
                archive.writestr(f"img_align_celeba/{name}", _celeba_jpeg(colour))
    else:
        (folder / "img_align_celeba").mkdir()
        for name, colour in zip(names, CELEBA_COLOURS):
            (folder / "img_align_celeba" / name).write_bytes(_celeba_jpeg(colour))


SMALL_CELEBA = dataclasses.replace(registry.CELEBA, num_train=4, num_test=1)


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "zip"])
def test_celeba_reader_crops_resizes_and_splits(tmp_path, packed):
    _write_celeba(tmp_path / "celeba", packed)
    arrays = load_arrays(SMALL_CELEBA, tmp_path)
    assert arrays.x_train.shape == (4, 64, 64, 3) and arrays.x_test.shape == (1, 64, 64, 3)
    assert arrays.x_train.dtype == np.uint8  # CelebA default: 12 KiB per image
    assert arrays.y_train is None and arrays.y_test is None
    means = arrays.x_train.reshape(4, -1, 3).mean(axis=1)
    np.testing.assert_allclose(means, CELEBA_COLOURS[:4], atol=3.0)  # the red frame is cropped away
    assert arrays.x_train[:, [0, -1], :, 0].max() < 100 and arrays.x_train[:, :, [0, -1], 0].max() < 100
    np.testing.assert_allclose(arrays.x_test.reshape(-1, 3).mean(axis=0), CELEBA_COLOURS[5], atol=3.0)
    as_float = load_arrays(SMALL_CELEBA, tmp_path, pixel_dtype="float32")
    assert as_float.x_train.dtype == np.float32
    np.testing.assert_allclose(as_float.x_train, arrays.x_train / 255.0, atol=1e-6)
    validation = read_celeba_split(
        tmp_path / "celeba", (tmp_path / "celeba" / "list_eval_partition.txt").read_bytes(), "validation"
    )
    np.testing.assert_allclose(validation.reshape(-1, 3).mean(axis=0), CELEBA_COLOURS[4], atol=3.0)


def test_celeba_preprocessed_images_are_cached(tmp_path):
    _write_celeba(tmp_path / "celeba", packed=True)
    first = load_arrays(SMALL_CELEBA, tmp_path)
    cached = sorted(p.name for p in (tmp_path / "celeba" / "preprocessed").iterdir())
    assert len(cached) == 2 and all(name.startswith("celeba64_crop148_") for name in cached)
    # Replace the archive by one with different pictures: the cache answers, not the JPEGs.
    (tmp_path / "celeba" / "img_align_celeba.zip").write_bytes(b"")
    zipfile.ZipFile(tmp_path / "celeba" / "img_align_celeba.zip", "w").close()
    again = load_arrays(SMALL_CELEBA, tmp_path)
    np.testing.assert_array_equal(first.x_train, again.x_train)


def test_celeba_missing_pieces_are_named(tmp_path):
    folder = tmp_path / "celeba"
    _write_celeba(folder, packed=False)
    (folder / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(DatasetError, match=r"img_align_celeba/000003.jpg is missing \(it is listed in list_eval_partition.txt\)"):
        load_arrays(SMALL_CELEBA, tmp_path)
    (folder / "img_align_celeba" / "000003.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    with pytest.raises(DatasetError, match=r"img_align_celeba/000003.jpg is not a readable JPEG"):
        load_arrays(SMALL_CELEBA, tmp_path)
    for image in (folder / "img_align_celeba").iterdir():
        image.unlink()
    (folder / "img_align_celeba").rmdir()
    with pytest.raises(DatasetError) as caught:
        verify_dataset("celeba", tmp_path)
    assert str(folder / "img_align_celeba.zip") in str(caught.value)
    assert "cannot be fetched automatically" in str(caught.value)
    (folder / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg train\n")
    with pytest.raises(DatasetError, match=r"list_eval_partition.txt is not in the expected format: line 2"):
        verify_dataset("celeba", tmp_path)


def test_celeba_registry_expects_the_official_partition(tmp_path):
    _write_celeba(tmp_path / "celeba", packed=False)
    with pytest.raises(DatasetError, match=r"hold 4 training and 1 test images, expected 162,770 and 19,962"):
        load_arrays("celeba", tmp_path)


# ---------------------------------------------------------------- IDX and scikit-learn digits


def test_idx_round_trip_and_damage():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array)), array)
    with pytest.raises(ValueError, match="payload holds 23 bytes"):
        parse_idx(idx_bytes(array)[:-1])
    with pytest.raises(ValueError, match="bad magic"):
        parse_idx(b"\x01\x00\x08\x01" + bytes(8))


def test_digits_read_without_importing_sklearn_equal_load_digits():
    import subprocess
    import sys

    from sklearn.datasets import load_digits

    from igr.data import digits

    assert digits.bundled_csv_path() is not None  # scikit-learn 1.x keeps the CSV there
    grey, labels = digits.load_grey_levels()
    bunch = load_digits()
    np.testing.assert_array_equal(grey, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)
    code = ("import sys\nfrom igr.data.loading import load_arrays\nload_arrays('digits')\n"
            "print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_digits_fall_back_to_load_digits_when_the_csv_moved(monkeypatch):
    from igr.data import digits

    expected = load_arrays("digits")
    monkeypatch.setattr(digits, "bundled_csv_path", lambda: None)
    fallback = load_arrays("digits")
    np.testing.assert_array_equal(fallback.x_train, expected.x_train)
    np.testing.assert_array_equal(fallback.y_test, expected.y_test)


def test_digits_without_their_package_name_it(monkeypatch):
    from igr.data import loading

    monkeypatch.setitem(loading._IMPORT_NAMES, "scikit-learn", "no_such_sklearn_module")
    with pytest.raises(DatasetError, match=r"needs the scikit-learn package, which is not "
                                           r"installed \(no module named 'no_such_sklearn"):
        verify_dataset("digits")


def test_sklearn_digits_offline_default():
    arrays = load_arrays("digits")
    assert arrays.x_train.shape == (1500, 8, 8, 1) and arrays.x_test.shape == (297, 8, 8, 1)
    assert class_counts(arrays.y_train, 10) == [151, 151, 150, 153, 148, 152, 151, 149, 146, 149]
    assert class_counts(arrays.y_test, 10) == [27, 31, 27, 30, 33, 30, 30, 30, 28, 31]
    assert set(np.unique(arrays.x_train).tolist()) == {0.0, 1.0}
    assert float(arrays.x_train.mean()) == pytest.approx(0.292365, abs=1e-6)
    grey = load_arrays("digits", binarize=False, flatten=True)
    assert grey.x_train.shape == (1500, 64)
    assert float(grey.x_train.mean()) == pytest.approx(0.305107, abs=1e-6)
    assert grey.x_train.max() == 1.0  # 16/16
    assert len(np.unique(grey.x_train)) == 17  # grey levels 0..16
