"""Reader for aligned CelebA (Liu et al., 2015) at 64x64 RGB.

Expected under the dataset folder (``<data dir>/celeba/``), as distributed on the official
page https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html:

- ``list_eval_partition.txt``: one line ``000001.jpg 0`` per image; partition 0 = train
  (162,770 images), 1 = validation (19,867), 2 = test (19,962);
- the 202,599 aligned 178x218 JPEGs, either extracted into ``img_align_celeba/`` or left in
  the archive ``img_align_celeba.zip`` (which holds that folder).

Each image is centre-cropped to a square (148x148 by default, the face region) and resized
to 64x64 with PIL's antialiased bilinear filter. Decoding ~180k JPEGs takes minutes, so the
result (uint8, 12 KiB per image) is cached as ``preprocessed/*.npy`` next to the data, when
that folder is writable. The training set is the whole train partition (162,770 images);
the test set is the test partition; validation is available through :func:`read_celeba_split`.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays
from igr.data.errors import FileFormatError

PARTITION_FILE = "list_eval_partition.txt"
IMAGE_FOLDER = "img_align_celeba"
IMAGE_ARCHIVE = "img_align_celeba.zip"
PARTITIONS = {"train": 0, "validation": 1, "test": 2}
DEFAULT_CROP_SIZE = 148
DEFAULT_IMAGE_SIZE = 64
CACHE_FOLDER = "preprocessed"


def parse_partition_file(content: bytes) -> dict[str, int]:
    """Map image file name -> partition (0 train, 1 validation, 2 test)."""
    partitions: dict[str, int] = {}
    for line_number, line in enumerate(content.decode("ascii", errors="replace").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2") or not fields[0].endswith(".jpg"):
            raise FileFormatError(
                PARTITION_FILE, f"line {line_number} is not '<name>.jpg <0|1|2>': {line!r}"
            )
        partitions[fields[0]] = int(fields[1])
    if not partitions:
        raise FileFormatError(PARTITION_FILE, "lists no images")
    return partitions


def check_partition_file(content: bytes) -> None:
    parse_partition_file(content)


def _missing_images() -> FileFormatError:
    phrase = f"is missing, and so is the extracted folder {IMAGE_FOLDER}/"
    return FileFormatError(IMAGE_ARCHIVE, phrase, phrase=phrase)


def check_image_source(folder: Path) -> None:
    """The images are present, extracted or as the zip archive (their content is checked on reading)."""
    if not (folder / IMAGE_FOLDER).is_dir() and not (folder / IMAGE_ARCHIVE).is_file():
        raise _missing_images()


def crop_and_resize(jpeg_bytes: bytes, crop_size: int, image_size: int) -> np.ndarray:
    """Decode one JPEG, centre-crop a ``crop_size`` square, resize to ``image_size``; uint8 HxWx3."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg_bytes)) as image:
        image = image.convert("RGB")
        width, height = image.size
        side = min(crop_size, width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
        image = image.resize((image_size, image_size), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)


class _ImageSource:
    """Reads JPEG bytes by file name from the extracted folder or from the zip archive."""

    def __init__(self, folder: Path):
        self.directory = folder / IMAGE_FOLDER
        self.archive_path = folder / IMAGE_ARCHIVE
        self._archive: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if not self.directory.is_dir():
            if not self.archive_path.is_file():
                raise _missing_images()
            try:
                self._archive = zipfile.ZipFile(self.archive_path)
            except zipfile.BadZipFile as exc:
                raise FileFormatError(
                    IMAGE_ARCHIVE, f"is not a readable zip archive ({exc})"
                ) from exc
            self._members = {
                Path(member).name: member
                for member in self._archive.namelist()
                if member.lower().endswith(".jpg")
            }

    def read(self, name: str) -> bytes:
        if self._archive is None:
            path = self.directory / name
            if not path.is_file():
                phrase = f"is missing (it is listed in {PARTITION_FILE})"
                raise FileFormatError(f"{IMAGE_FOLDER}/{name}", phrase, phrase=phrase)
            return path.read_bytes()
        if name not in self._members:
            phrase = f"lacks {name}, which is listed in {PARTITION_FILE}"
            raise FileFormatError(IMAGE_ARCHIVE, phrase, phrase=phrase)
        try:
            return self._archive.read(self._members[name])
        except (zipfile.BadZipFile, OSError) as exc:
            raise FileFormatError(IMAGE_ARCHIVE, f"member {name} is damaged ({exc})") from exc

    def describe(self, name: str) -> str:
        """Where image ``name`` is, relative to the dataset folder (for messages)."""
        return f"{IMAGE_FOLDER}/{name}" if self._archive is None else f"{IMAGE_ARCHIVE}:{name}"

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()


def _decode_all(
    source: _ImageSource, names: Sequence[str], crop_size: int, image_size: int
) -> np.ndarray:
    images = np.empty((len(names), image_size, image_size, 3), dtype=np.uint8)
    if not names:
        return images

    def decode(name: str) -> np.ndarray:
        try:
            return crop_and_resize(source.read(name), crop_size, image_size)
        except FileFormatError:
            raise
        except Exception as exc:  # PIL raises several types for a damaged JPEG
            phrase = f"is not a readable JPEG ({exc})"
            raise FileFormatError(source.describe(name), phrase, phrase=phrase) from exc

    chunk = 2048
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in range(0, len(names), chunk):
            batch_names = names[start : start + chunk]
            for offset, image in enumerate(pool.map(decode, batch_names)):
                images[start + offset] = image
    return images


def _cache_path(
    folder: Path, split: str, partition_sha: str, crop_size: int, image_size: int
) -> Path:
    name = f"celeba{image_size}_crop{crop_size}_{split}_{partition_sha[:12]}.npy"
    return folder / CACHE_FOLDER / name


def _save_quietly(path: Path, images: np.ndarray) -> None:
    """Write the cache atomically; a read-only data folder just means no cache."""
    temporary = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as stream:
            np.save(stream, images)
        os.replace(temporary, path)
    except OSError as exc:
        print(f"igr.data: not caching preprocessed CelebA at {path} ({exc})", file=sys.stderr)
        temporary.unlink(missing_ok=True)


def read_celeba_split(
    folder: Path,
    partition_content: bytes,
    split: str,
    *,
    crop_size: int = DEFAULT_CROP_SIZE,
    image_size: int = DEFAULT_IMAGE_SIZE,
    use_cache: bool = True,
) -> np.ndarray:
    """uint8 images (N, image_size, image_size, 3) of one partition, in file-name order."""
    partitions = parse_partition_file(partition_content)
    wanted = PARTITIONS[split]
    names = sorted(name for name, part in partitions.items() if part == wanted)
    partition_sha = hashlib.sha256(partition_content).hexdigest()
    cache = _cache_path(folder, split, partition_sha, crop_size, image_size)
    if use_cache and cache.is_file():
        try:
            cached = np.load(cache, mmap_mode=None, allow_pickle=False)
            if cached.shape == (len(names), image_size, image_size, 3) and cached.dtype == np.uint8:
                return cached
        except (OSError, ValueError):
            pass  # unreadable cache: rebuild it
    source = _ImageSource(folder)
    try:
        images = _decode_all(source, names, crop_size, image_size)
    finally:
        source.close()
    if use_cache:
        _save_quietly(cache, images)
    return images


def read_celeba(folder: Path, contents: Mapping[str, bytes]) -> DatasetArrays:
    """Train and test partitions of aligned CelebA at 64x64; CelebA has no labels (None)."""
    partition_content = contents[PARTITION_FILE]
    return DatasetArrays(
        x_train=read_celeba_split(folder, partition_content, "train"),
        y_train=None,
        x_test=read_celeba_split(folder, partition_content, "test"),
        y_test=None,
    )
