"""The one exception the data layer raises for data that is missing, truncated or corrupted.

Its message always says which file is at fault, which checksum was expected, and how to
obtain a good copy, so that a user can fix the problem before any training starts.
"""

from __future__ import annotations

from pathlib import Path


class DatasetError(ValueError):
    """A dataset file is missing, truncated, corrupted or in an unexpected format."""


def how_to_obtain(dataset_name: str, data_dir: Path | str | None = None) -> str:
    """The standard advice appended to every :class:`DatasetError` message."""
    target = f" --data-dir {data_dir}" if data_dir is not None else ""
    return (
        f"To obtain the data, run `igr data fetch {dataset_name}{target}` on a machine with "
        f"internet access, or set the IGR_DATA_DIR environment variable to a folder that "
        f"already holds a verified copy (see `igr data info {dataset_name}`)."
    )


def file_problem(
    dataset_name: str,
    path: Path | str,
    problem: str,
    *,
    expected_sha256: str | None,
    data_dir: Path | str | None = None,
    extra_advice: str | None = None,
) -> DatasetError:
    """Build a :class:`DatasetError` for one file.

    ``problem`` says what is wrong ("is missing", "is truncated or corrupted: ...").
    """
    expected = (
        f"expected sha256 of the (decompressed) content: {expected_sha256}"
        if expected_sha256
        else "no upstream sha256 is registered for this file; its format and image counts are checked"
    )
    advice = extra_advice if extra_advice is not None else how_to_obtain(dataset_name, data_dir)
    return DatasetError(f"Dataset {dataset_name!r}: file {path} {problem} ({expected}). {advice}")


class FileFormatError(ValueError):
    """Raised by a reader when one file's content is not in the expected format.

    The loader turns it into a :class:`DatasetError` that names the file's path.
    """

    def __init__(self, file_name: str, problem: str, *, phrase: str | None = None):
        super().__init__(f"{file_name}: {problem}")
        self.file_name = file_name
        self.problem = problem
        #: completes "file <path> ..." in the user's message
        self.phrase = phrase or f"is not in the expected format: {problem}"
