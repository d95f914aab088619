"""Verify a dataset on disk and load it as numpy arrays.

Verification happens before anything is parsed, in the same pass that reads each file: the
(decompressed) content is hashed and compared with the registry, so a missing, truncated or
corrupted file raises :class:`~igr.data.errors.DatasetError` before training starts. The
message names the file, its expected sha256 and how to obtain the data.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from igr.data.arrays import DatasetArrays
from igr.data.checksums import ContentDigest, UnreadableContentError, digest_bytes, read_content
from igr.data.errors import DatasetError, FileFormatError, file_problem, how_to_obtain
from igr.data.paths import resolve_data_dir
from igr.data.preprocessing import BINARIZE_THRESHOLD, PreprocessOptions, preprocess
from igr.data.registry import DataFile, DatasetSpec, get_spec

#: File states reported by :func:`inspect_files`.
VERIFIED = "verified"  # sha256 and size match the registry
FORMAT_CHECKED = "format-checked"  # no registered sha256; the content parses
MISSING = "missing"
CORRUPTED = "corrupted"

#: Import names of packages whose pip name differs.
_IMPORT_NAMES = {"scikit-learn": "sklearn"}


@dataclass(frozen=True)
class FileStatus:
    """The state of one registered file in a data directory."""

    file: DataFile
    path: Path  # where it was found, or where it is expected when missing
    state: str
    problem: str | None = None  # phrase completing "file <path> ...", when not usable
    digest: ContentDigest | None = None

    @property
    def usable(self) -> bool:
        return self.state in (VERIFIED, FORMAT_CHECKED)


def advice_for(spec: DatasetSpec, data_dir: Path) -> str:
    """How to obtain this dataset, for error messages."""
    if spec.manual_download:
        return spec.manual_download.format(folder=spec.folder_in(data_dir))
    if spec.bundled_with:
        return f"It ships inside the {spec.bundled_with} package: pip install {spec.bundled_with}."
    return how_to_obtain(spec.name, data_dir)


def locate(file: DataFile, folder: Path) -> Path | None:
    """The first accepted name of ``file`` present in ``folder``, or None."""
    for name in file.candidate_names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def inspect_content(file: DataFile, path: Path, content: bytes) -> FileStatus:
    """Compare content already read from ``path`` with the registry entry ``file``."""
    digest = digest_bytes(content)
    described = "decompressed content" if path.name.endswith(".gz") else "content"
    if file.size is not None and digest.size != file.size:
        return FileStatus(
            file,
            path,
            CORRUPTED,
            f"is truncated or corrupted: its {described} is {digest.size:,} bytes, expected "
            f"{file.size:,}, and its sha256 is {digest.sha256}",
            digest,
        )
    if file.sha256 is not None and digest.sha256 != file.sha256:
        return FileStatus(
            file,
            path,
            CORRUPTED,
            f"is corrupted: the sha256 of its {described} is {digest.sha256}",
            digest,
        )
    if file.check_format is not None:
        try:
            file.check_format(content)
        except FileFormatError as exc:
            return FileStatus(file, path, CORRUPTED, exc.phrase, digest)
    state = VERIFIED if file.sha256 is not None else FORMAT_CHECKED
    return FileStatus(file, path, state, None, digest)


def read_and_inspect(file: DataFile, folder: Path) -> tuple[FileStatus, bytes | None]:
    """Find, read and check one file; returns its status and, when usable, its content."""
    path = locate(file, folder)
    if path is None:
        return FileStatus(file, folder / file.name, MISSING, "is missing"), None
    try:
        content = read_content(path)
    except UnreadableContentError as exc:
        return FileStatus(file, path, CORRUPTED, f"is truncated or corrupted: it {exc}"), None
    except OSError as exc:
        return FileStatus(file, path, CORRUPTED, f"cannot be read ({exc})"), None
    status = inspect_content(file, path, content)
    return status, (content if status.usable else None)


def inspect_files(
    name: str | DatasetSpec, data_dir: str | os.PathLike[str] | None = None
) -> list[FileStatus]:
    """The state of every registered file of a dataset; never raises for bad data."""
    spec = get_spec(name)
    folder = spec.folder_in(resolve_data_dir(data_dir))
    return [read_and_inspect(file, folder)[0] for file in spec.files]


def _error_for(spec: DatasetSpec, status: FileStatus, data_dir: Path) -> DatasetError:
    return file_problem(
        spec.name,
        status.path,
        status.problem or status.state,
        expected_sha256=status.file.sha256,
        data_dir=data_dir,
        extra_advice=advice_for(spec, data_dir),
    )


def verify_dataset(
    name: str | DatasetSpec, data_dir: str | os.PathLike[str] | None = None
) -> dict[str, bytes]:
    """Check every file of the dataset; return their verified (decompressed) contents by name.

    Raises :class:`DatasetError` for the first file that is missing, truncated, corrupted or
    in the wrong format. Call it before training to fail early (``load_arrays`` calls it).
    """
    spec = get_spec(name)
    root = resolve_data_dir(data_dir)
    folder = spec.folder_in(root)
    contents: dict[str, bytes] = {}
    for file in spec.files:
        status, content = read_and_inspect(file, folder)
        if content is None:
            raise _error_for(spec, status, root)
        contents[file.name] = content
    if spec.check_folder is not None:
        try:
            spec.check_folder(folder)
        except FileFormatError as exc:
            raise file_problem(
                spec.name,
                folder / exc.file_name,
                exc.phrase,
                expected_sha256=None,
                data_dir=root,
                extra_advice=advice_for(spec, root),
            ) from exc
    if spec.bundled_with:
        # found, not imported: importing scikit-learn costs about 1 s a job (igr.data.digits)
        import_name = _IMPORT_NAMES.get(spec.bundled_with, spec.bundled_with)
        if importlib.util.find_spec(import_name) is None:
            raise DatasetError(
                f"Dataset {spec.name!r} needs the {spec.bundled_with} package, which is not "
                f"installed (no module named {import_name!r}). {advice_for(spec, root)}"
            )
    return contents


def load_raw(
    name: str | DatasetSpec, data_dir: str | os.PathLike[str] | None = None
) -> DatasetArrays:
    """The dataset as stored (uint8 or float pixels), after verification of every file."""
    spec = get_spec(name)
    root = resolve_data_dir(data_dir)
    folder = spec.folder_in(root)
    contents = verify_dataset(spec, root)
    try:
        arrays = spec.reader(folder, contents)
    except FileFormatError as exc:
        registered = {file.name: file for file in spec.files}
        file = registered.get(exc.file_name)
        raise file_problem(
            spec.name,
            folder / exc.file_name,
            exc.phrase,
            expected_sha256=file.sha256 if file else None,
            data_dir=root,
            extra_advice=advice_for(spec, root),
        ) from exc
    if (arrays.num_train, arrays.num_test) != (spec.num_train, spec.num_test):
        names = ", ".join(file.name for file in spec.files) or spec.folder
        raise DatasetError(
            f"Dataset {spec.name!r}: the files in {folder} ({names}) hold {arrays.num_train:,} "
            f"training and {arrays.num_test:,} test images, expected {spec.num_train:,} and "
            f"{spec.num_test:,}; the copy is incomplete or not the registered version. "
            f"{advice_for(spec, root)}"
        )
    return arrays


def preprocess_options(
    spec: DatasetSpec,
    *,
    binarize: bool | None = None,
    threshold: float = BINARIZE_THRESHOLD,
    image_size: tuple[int, int] | None = None,
    flatten: bool = False,
    pixel_dtype: str | None = None,
) -> PreprocessOptions:
    """Options with the dataset's defaults filled in for arguments left as None."""
    binarize = spec.binarize_by_default if binarize is None else binarize
    if pixel_dtype is None:
        pixel_dtype = spec.default_pixel_dtype if not (binarize or image_size) else "float32"
    return PreprocessOptions(
        binarize=binarize,
        threshold=threshold,
        image_size=image_size,
        flatten=flatten,
        pixel_dtype=pixel_dtype,
    )


def load_arrays(
    name: str | DatasetSpec,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    binarize: bool | None = None,
    threshold: float = BINARIZE_THRESHOLD,
    image_size: tuple[int, int] | None = None,
    flatten: bool = False,
    pixel_dtype: str | None = None,
) -> DatasetArrays:
    """Verified, preprocessed train and test arrays: ``x_train, y_train, x_test, y_test``.

    Images are float32 in [0, 1] with shape (N, H, W, C), C = 1 for greyscale, or
    (N, H*W*C) with ``flatten``. ``binarize`` (default: the dataset's, True for MNIST,
    Omniglot and digits, False for Fashion-MNIST and CelebA) thresholds at ``threshold``
    for Bernoulli likelihoods; otherwise grey levels are kept for Gaussian likelihoods.
    CelebA defaults to ``pixel_dtype="uint8"`` (0..255; 2 GB instead of 8 GB for the training
    set); :mod:`igr.data.pipeline` converts such batches to float32 in [0, 1].
    """
    spec = get_spec(name)
    options = preprocess_options(
        spec,
        binarize=binarize,
        threshold=threshold,
        image_size=image_size,
        flatten=flatten,
        pixel_dtype=pixel_dtype,
    )
    raw = load_raw(spec, data_dir)
    return DatasetArrays(
        x_train=preprocess(raw.x_train, options),
        y_train=raw.y_train,
        x_test=preprocess(raw.x_test, options),
        y_test=raw.y_test,
    )


def class_counts(labels: np.ndarray, num_classes: int) -> list[int]:
    """Number of examples per class, as a plain list."""
    return np.bincount(labels, minlength=num_classes).tolist()
