"""The registry of datasets: for each, where its files come from, their checksums, how to
read them, and how its pixels are preprocessed by default.

Checksums are sha256 of the DECOMPRESSED content of each file (see :mod:`igr.data.checksums`),
and ``size`` is the decompressed length in bytes. Where no trustworthy upstream checksum is
known (Omniglot's ``chardata.mat``, CelebA's partition list), ``sha256`` is None and the file
is checked by its format and by the number of images it yields instead; ``igr data info``
says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from igr.data import celeba, codes, digits, mnist, omniglot
from igr.data.arrays import DatasetArrays

Reader = Callable[[Path, Mapping[str, bytes]], DatasetArrays]


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset, as stored in the dataset's folder.

    ``name`` is the file name as distributed (``.gz`` for compressed IDX files); a copy
    stored decompressed (the name without ``.gz``) is accepted too. ``urls`` are mirrors,
    tried in order. ``sha256`` and ``size`` describe the decompressed content (None when
    unknown). ``check_format`` raises :class:`igr.data.errors.FileFormatError` for content
    in the wrong format; it stands in for the checksum when that is unknown.
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None
    check_format: Callable[[bytes], None] | None = None

    @property
    def candidate_names(self) -> tuple[str, ...]:
        """File names accepted on disk, preferred first."""
        if self.name.endswith(".gz"):
            return (self.name, self.name[: -len(".gz")])
        return (self.name,)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the data layer knows about one dataset."""

    name: str
    folder: str
    title: str
    source: str
    licence: str
    files: tuple[DataFile, ...]
    reader: Reader
    image_shape: tuple[int, int, int]
    num_classes: int | None
    num_train: int
    num_test: int
    binarize_by_default: bool
    default_pixel_dtype: str = "float32"
    manual_download: str | None = None
    bundled_with: str | None = None
    #: Checks what the registered files do not cover (CelebA's image folder or archive);
    #: raises :class:`igr.data.errors.FileFormatError`.
    check_folder: Callable[[Path], None] | None = None

    def folder_in(self, data_dir: Path) -> Path:
        return Path(data_dir) / self.folder


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
_IDX_SIZES = {
    mnist.TRAIN_IMAGES: 47_040_016,
    mnist.TRAIN_LABELS: 60_008,
    mnist.TEST_IMAGES: 7_840_016,
    mnist.TEST_LABELS: 10_008,
}


def _idx_files(mirrors: tuple[str, ...], sha256: dict[str, str]) -> tuple[DataFile, ...]:
    return tuple(
        DataFile(
            name=name,
            urls=tuple(mirror + name for mirror in mirrors),
            sha256=sha256[name],
            size=_IDX_SIZES[name],
        )
        for name in mnist.IDX_FILE_NAMES
    )


MNIST = DatasetSpec(
    name="mnist",
    folder="mnist",
    title="MNIST handwritten digits, 28x28 grey levels",
    source="LeCun, Cortes and Burges, http://yann.lecun.com/exdb/mnist/",
    licence="CC BY-SA 3.0",
    files=_idx_files(
        _MNIST_MIRRORS,
        {
            mnist.TRAIN_IMAGES: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            mnist.TRAIN_LABELS: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            mnist.TEST_IMAGES: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            mnist.TEST_LABELS: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
    ),
    reader=mnist.read_idx_dataset,
    image_shape=(28, 28, 1),
    num_classes=10,
    num_train=60_000,
    num_test=10_000,
    binarize_by_default=True,
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    folder="fashion-mnist",
    title="Fashion-MNIST clothing images, 28x28 grey levels",
    source="Xiao, Rasul and Vollgraf (Zalando), https://github.com/zalandoresearch/fashion-mnist",
    licence="MIT",
    files=_idx_files(
        _FASHION_MIRRORS,
        {
            mnist.TRAIN_IMAGES: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            mnist.TRAIN_LABELS: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            mnist.TEST_IMAGES: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            mnist.TEST_LABELS: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
    ),
    reader=mnist.read_idx_dataset,
    image_shape=(28, 28, 1),
    num_classes=10,
    num_train=60_000,
    num_test=10_000,
    binarize_by_default=False,
)

OMNIGLOT = DatasetSpec(
    name="omniglot",
    folder="omniglot",
    title="Omniglot characters, 28x28 split of Burda et al. (2016)",
    source="Lake, Salakhutdinov and Tenenbaum; 28x28 split from https://github.com/yburda/iwae",
    licence="MIT (Omniglot); the IWAE repository carries no separate licence for the split",
    files=(
        DataFile(
            name=omniglot.FILE_NAME,
            urls=(
                "https://raw.githubusercontent.com/yburda/iwae/master/datasets/OMNIGLOT/chardata.mat",
            ),
            sha256=None,
            size=None,
            check_format=omniglot.check_chardata,
        ),
    ),
    reader=omniglot.read_omniglot,
    image_shape=(28, 28, 1),
    num_classes=omniglot.NUM_ALPHABETS,
    num_train=24_345,
    num_test=8_070,
    binarize_by_default=True,
)

CELEBA = DatasetSpec(
    name="celeba",
    folder="celeba",
    title="CelebA aligned faces, centre-cropped 148x148 and resized to 64x64 RGB",
    source="Liu, Luo, Wang and Tang, https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
    licence="non-commercial research use only (CelebA agreement)",
    files=(
        DataFile(
            name=celeba.PARTITION_FILE,
            urls=(),
            sha256=None,
            size=None,
            check_format=celeba.check_partition_file,
        ),
    ),
    reader=celeba.read_celeba,
    image_shape=(64, 64, 3),
    num_classes=None,
    num_train=162_770,
    num_test=19_962,
    binarize_by_default=False,
    default_pixel_dtype="uint8",
    check_folder=celeba.check_image_source,
    manual_download=(
        "CelebA is distributed from Google Drive under a research-only agreement and cannot be "
        "fetched automatically. From https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html download "
        "'Img/img_align_celeba.zip' and 'Eval/list_eval_partition.txt' into {folder}/ (the zip "
        "may stay packed, or be extracted there as img_align_celeba/)."
    ),
)

DIGITS = DatasetSpec(
    name="digits",
    folder="digits",
    title="8x8 handwritten digits bundled with scikit-learn (offline default)",
    source="UCI Optical Recognition of Handwritten Digits, via sklearn.datasets.load_digits",
    licence="CC BY 4.0 (UCI)",
    files=(),
    reader=digits.read_digits,
    image_shape=(8, 8, 1),
    num_classes=10,
    num_train=digits.NUM_TRAIN,
    num_test=1797 - digits.NUM_TRAIN,
    binarize_by_default=True,
    bundled_with="scikit-learn",
)

CODES = DatasetSpec(
    name="codes",
    folder="codes",
    title="16x16 binary images generated from 4 known 10-way codes (offline VAE default)",
    source="generated by igr.data.codes from fixed seeds; exact log-likelihood known",
    licence="CC0 (generated)",
    files=(),
    reader=codes.read_codes,
    image_shape=(codes.SIDE, codes.SIDE, 1),
    num_classes=codes.NUM_CATEGORIES,
    num_train=codes.NUM_TRAIN,
    num_test=codes.NUM_TEST,
    binarize_by_default=True,
    bundled_with="igr",
)

#: All datasets, by name.
DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec for spec in (MNIST, FASHION_MNIST, OMNIGLOT, CELEBA, DIGITS, CODES)
}


def get_spec(name_or_spec: str | DatasetSpec) -> DatasetSpec:
    """The registered dataset of that name (a :class:`DatasetSpec` is passed through)."""
    if isinstance(name_or_spec, DatasetSpec):
        return name_or_spec
    try:
        return DATASETS[name_or_spec]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise KeyError(f"unknown dataset {name_or_spec!r}; known datasets: {known}") from None
