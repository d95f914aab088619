"""sha256 of a data file's content, and verification against the registry.

Checksums of IDX data are taken over the DECOMPRESSED content, so that any faithful copy
validates, whatever gzip settings produced its ``.gz`` archive (the offline copies in
``shared/data`` were re-compressed and differ byte-wise from upstream's archives).

Hashing is cheap next to reading: decompressing MNIST's 47 MB training images takes about
0.2 s and hashing them 0.03 s on the development machine, so files are hashed on every load
(in the same pass that reads them) and no "already verified" marker is cached.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK_BYTES = 1 << 20


class UnreadableContentError(Exception):
    """The file could not be decompressed (truncated or corrupted archive)."""


@dataclass(frozen=True)
class ContentDigest:
    """sha256 and length of a file's (decompressed) content."""

    sha256: str
    size: int


def is_gzip_name(path: Path | str) -> bool:
    return str(path).endswith(".gz")


def read_content(path: Path, gzip_compressed: bool | None = None) -> bytes:
    """The file's bytes, decompressed when it is gzip (by default: when its name ends in ``.gz``).

    Raises :class:`UnreadableContentError` for an archive that is truncated or damaged.
    """
    if gzip_compressed is None:
        gzip_compressed = is_gzip_name(path)
    if not gzip_compressed:
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise UnreadableContentError(f"cannot be decompressed ({exc})") from exc


def digest_bytes(content: bytes) -> ContentDigest:
    return ContentDigest(hashlib.sha256(content).hexdigest(), len(content))


def digest_file(path: Path, gzip_compressed: bool | None = None) -> ContentDigest:
    """sha256 of the file's content (decompressed for gzip, by default ``.gz``), streamed."""
    if gzip_compressed is None:
        gzip_compressed = is_gzip_name(path)
    hasher = hashlib.sha256()
    size = 0
    opener = gzip.open if gzip_compressed else open
    try:
        with opener(path, "rb") as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                hasher.update(chunk)
                size += len(chunk)
    except (EOFError, zlib.error) as exc:
        raise UnreadableContentError(f"cannot be decompressed ({exc})") from exc
    except OSError as exc:
        if gzip_compressed:
            raise UnreadableContentError(f"cannot be decompressed ({exc})") from exc
        raise
    return ContentDigest(hasher.hexdigest(), size)
