"""Download one dataset file: mirrors, retries with backoff, resume, verification, atomic move.

The transfer writes to ``<destination>.part`` in the destination's folder. When a ``.part``
exists (an earlier attempt was cut off), the transfer resumes with an HTTP ``Range`` request;
a server that ignores ``Range`` (answers 200) is read from the start instead. Transient
failures (dropped connection, timeout, HTTP 5xx/408/429) are retried with exponential
backoff; other HTTP errors move on to the next mirror. Once complete, the content is
verified against the registry (sha256 and size of the decompressed content, or the format
check where no sha256 is known) and only then moved into place with ``os.replace``, so the
destination never holds a partial or unverified file. A ``.part`` that fails verification is
deleted. Only ``urllib`` from the standard library is used.
"""

from __future__ import annotations

import http.client
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from igr import __version__
from igr.data.checksums import UnreadableContentError, is_gzip_name, read_content
from igr.data.errors import DatasetError
from igr.data.loading import inspect_content
from igr.data.progress import ProgressBar
from igr.data.registry import DataFile

_CHUNK_BYTES = 1 << 16
_USER_AGENT = f"igr-data/{__version__} (+urllib)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` per mirror, sleeping ``backoff_seconds * 2**(k-1)``
    (at most ``max_backoff_seconds``) before retry k; ``timeout_seconds`` per socket operation."""

    attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 60.0

    def delay(self, retry_number: int) -> float:
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (retry_number - 1))


class DownloadError(DatasetError):
    """No mirror delivered a complete file that passed verification."""


class _TransientFailure(Exception):
    """Worth retrying the same URL."""


class _PermanentFailure(Exception):
    """Not worth retrying this URL; try the next mirror."""


def _content_range(header: str | None) -> tuple[int, int | None]:
    """(first byte, total length or None) from ``Content-Range: bytes a-b/total``."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", header or "")
    if match is None:
        raise _TransientFailure(f"unusable Content-Range header {header!r}")
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _transfer(url: str, part: Path, policy: RetryPolicy, label: str, progress: bool) -> None:
    """Fetch ``url`` into ``part``, resuming from its current length. Returns when the
    server has sent everything it announced; raises _TransientFailure/_PermanentFailure."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=policy.timeout_seconds)
    except HTTPError as exc:
        if exc.code == 416 and offset:
            return  # nothing left to send: the .part is already whole; verification decides
        if exc.code in (408, 429) or exc.code >= 500:
            raise _TransientFailure(f"HTTP {exc.code} {exc.reason}") from exc
        raise _PermanentFailure(f"HTTP {exc.code} {exc.reason}") from exc
    except (URLError, OSError, http.client.HTTPException) as exc:
        raise _TransientFailure(f"cannot connect ({exc})") from exc

    with response:
        if offset and response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                part.unlink(missing_ok=True)
                raise _TransientFailure(f"server resumed at byte {start}, not {offset}")
            mode = "ab"
        else:  # a full response: the server ignored Range, or there was nothing to resume
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        received = offset
        with open(part, mode) as output, ProgressBar(label, total, offset, enabled=progress) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK_BYTES)
                except (OSError, http.client.HTTPException) as exc:
                    raise _TransientFailure(
                        f"connection lost after {received:,} bytes ({exc})"
                    ) from exc
                if not chunk:
                    break
                output.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
            output.flush()
            os.fsync(output.fileno())
    if total is not None and received < total:
        raise _TransientFailure(f"connection dropped after {received:,} of {total:,} bytes")


def _verify(file: DataFile, part: Path, destination: Path) -> str | None:
    """None when the downloaded ``part`` matches the registry, else the problem."""
    try:
        content = read_content(part, gzip_compressed=is_gzip_name(destination))
    except UnreadableContentError as exc:
        return f"the download {exc}"
    status = inspect_content(file, destination, content)
    return None if status.usable else f"the download {status.problem}"


def download_file(
    file: DataFile,
    folder: Path,
    *,
    policy: RetryPolicy = RetryPolicy(),
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download ``file`` into ``folder`` from its mirrors; return the verified path.

    Raises :class:`DownloadError` naming the file, its expected sha256 and what went wrong
    at each mirror (for a checksum mismatch, the actual sha256).
    """
    if not file.urls:
        raise DownloadError(f"{folder / file.name} has no download URL")
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / file.name
    part = destination.with_name(destination.name + ".part")
    failures: list[str] = []
    for url in file.urls:
        attempt = 0
        restarted_clean = False
        while attempt < policy.attempts:
            attempt += 1
            resumed_from = part.stat().st_size if part.exists() else 0
            try:
                _transfer(url, part, policy, label=destination.name, progress=progress)
            except _PermanentFailure as exc:
                failures.append(f"{url}: {exc}")
                break
            except _TransientFailure as exc:
                failures.append(f"{url} (attempt {attempt} of {policy.attempts}): {exc}")
                if attempt < policy.attempts:
                    sleep(policy.delay(attempt))
                continue
            problem = _verify(file, part, destination)
            if problem is None:
                os.replace(part, destination)
                return destination
            part.unlink(missing_ok=True)
            failures.append(f"{url}: {problem}")
            if resumed_from and not restarted_clean:
                restarted_clean = True  # stale bytes from an older .part may be at fault
                continue
            break
        # Mirrors may serve different (equally valid) archives: each mirror starts clean,
        # and a failed download leaves nothing half-written behind.
        part.unlink(missing_ok=True)
    expected = (
        f"expected sha256 {file.sha256}"
        if file.sha256
        else "format check only, no registered sha256"
    )
    details = "\n  - ".join(failures)
    raise DownloadError(
        f"Could not download {destination} ({expected}); nothing was written there. "
        f"Attempts:\n  - {details}"
    )
