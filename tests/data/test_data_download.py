"""The download code, for real, against an HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import dataclasses
import gzip
import json

import numpy as np
import pytest

from igr.cli import main as igr_main
from igr.data import registry
from igr.data.checksums import digest_file
from igr.data.download import DownloadError, RetryPolicy, download_file
from igr.data.errors import DatasetError
from igr.data.fetch import fetch_dataset
from igr.data.loading import load_raw
from igr.data.registry import DataFile

from .data_helpers import gzip_bytes, idx_bytes, sha256

FAST_RETRIES = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=5.0)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """urllib must talk to 127.0.0.1 directly, whatever proxies the environment names."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def idx_archive():
    """A gzip IDX archive of 64 random 28x28 images: (archive bytes, decompressed bytes)."""
    images = np.random.default_rng(7).integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    content = idx_bytes(images)
    archive = gzip_bytes(content)
    assert len(archive) > 40_000  # large enough to be cut in half meaningfully
    return archive, content


def file_entry(name, urls, content):
    return DataFile(name=name, urls=tuple(urls), sha256=sha256(content), size=len(content))


def files_in(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_download_success_verifies_and_moves_into_place(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/train-images-idx3-ubyte.gz", archive)
    entry = file_entry("train-images-idx3-ubyte.gz", [url], content)
    path = download_file(entry, tmp_path / "mnist", policy=FAST_RETRIES, progress=False)
    assert path == tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    assert path.read_bytes() == archive
    assert digest_file(path).sha256 == sha256(content)
    assert files_in(tmp_path / "mnist") == ["train-images-idx3-ubyte.gz"]
    assert http_server.requests_for("/train-images-idx3-ubyte.gz") == [None]


def test_dropped_connection_is_resumed_with_a_range_request(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive, "drop")
    slept = []
    path = download_file(
        file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=False, sleep=slept.append
    )
    assert path.read_bytes() == archive
    half = len(archive) // 2
    assert http_server.requests_for("/a.gz") == [None, f"bytes={half}-"]
    assert slept == [0.01]  # one retry, after the first backoff
    assert files_in(tmp_path) == ["a.gz"]


def test_server_that_ignores_range_is_read_from_the_start(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive, "drop", "ignore-range")
    path = download_file(file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=False)
    assert path.read_bytes() == archive  # not the first half twice
    assert len(http_server.requests_for("/a.gz")) == 2


def test_transient_http_errors_are_retried_with_backoff(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive, "503", "503")
    slept = []
    policy = RetryPolicy(attempts=3, backoff_seconds=0.5, timeout_seconds=5.0)
    download_file(file_entry("a.gz", [url], content), tmp_path, policy=policy, progress=False, sleep=slept.append)
    assert slept == [0.5, 1.0]  # exponential backoff
    assert len(http_server.requests_for("/a.gz")) == 3


def test_next_mirror_is_tried_after_a_404(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    first = http_server.serve("/gone/a.gz", archive, "404")
    second = http_server.serve("/mirror/a.gz", archive)
    download_file(file_entry("a.gz", [first, second], content), tmp_path, policy=FAST_RETRIES, progress=False)
    assert len(http_server.requests_for("/gone/a.gz")) == 1  # a 404 is not retried
    assert (tmp_path / "a.gz").read_bytes() == archive


def test_checksum_mismatch_is_rejected_and_nothing_is_left(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    altered = bytearray(content)
    altered[-1] ^= 0x01  # a faithful-looking archive of different content
    url = http_server.serve("/a.gz", gzip_bytes(bytes(altered)))
    entry = file_entry("a.gz", [url], content)
    with pytest.raises(DownloadError) as caught:
        download_file(entry, tmp_path / "d", policy=FAST_RETRIES, progress=False)
    message = str(caught.value)
    assert str(tmp_path / "d" / "a.gz") in message
    assert sha256(content) in message  # expected
    assert sha256(bytes(altered)) in message  # actual
    assert files_in(tmp_path / "d") == []  # no file, no .part
    assert len(http_server.requests_for("/a.gz")) == 1  # a complete but wrong file is not re-fetched


def test_corrupted_bytes_in_transit_are_rejected(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive, "corrupt")
    with pytest.raises(DownloadError, match="cannot be decompressed"):
        download_file(file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=False)
    assert files_in(tmp_path) == []


def test_connection_that_always_drops_fails_cleanly(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive, "drop", "drop", "drop")
    with pytest.raises(DownloadError) as caught:
        download_file(file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=False)
    assert "connection dropped" in str(caught.value)
    assert "attempt 3 of 3" in str(caught.value)
    assert files_in(tmp_path) == []


def test_stale_partial_file_from_another_version_is_restarted_clean(http_server, idx_archive, tmp_path):
    archive, content = idx_archive
    (tmp_path / "a.gz.part").write_bytes(b"\x1f\x8b" + b"junk" * 100)  # left by some older run
    url = http_server.serve("/a.gz", archive)
    download_file(file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=False)
    assert (tmp_path / "a.gz").read_bytes() == archive
    assert http_server.requests_for("/a.gz") == ["bytes=402-", None]
    assert files_in(tmp_path) == ["a.gz"]


def test_progress_is_reported_on_stderr_without_tqdm(http_server, idx_archive, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # behave as if tqdm were not installed
    archive, content = idx_archive
    url = http_server.serve("/a.gz", archive)
    download_file(file_entry("a.gz", [url], content), tmp_path, policy=FAST_RETRIES, progress=True)
    err = capsys.readouterr().err
    assert "a.gz: 0.0 MB of" in err
    assert "(100%)" in err


def _small_mnist_like(http_server, rng):
    """A fake 'mnist' spec whose four files are served by the local server."""
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, size=50, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, size=20, dtype=np.uint8),
    }
    files = []
    for name, array in arrays.items():
        content = idx_bytes(array)
        url = http_server.serve(f"/mnist/{name}", gzip_bytes(content))
        files.append(file_entry(name, [url], content))
    spec = dataclasses.replace(registry.MNIST, files=tuple(files), num_train=50, num_test=20)
    return spec, arrays


def test_fetch_dataset_downloads_then_never_again(http_server, tmp_path):
    spec, arrays = _small_mnist_like(http_server, np.random.default_rng(3))
    first = fetch_dataset(spec, tmp_path, policy=FAST_RETRIES, progress=False, quiet=True)
    assert [o.action for o in first] == ["downloaded"] * 4
    assert len(http_server.requests) == 4
    second = fetch_dataset(spec, tmp_path, policy=FAST_RETRIES, progress=False, quiet=True)
    assert [o.action for o in second] == ["already verified"] * 4
    assert len(http_server.requests) == 4  # nothing fetched again
    loaded = load_raw(spec, tmp_path)
    np.testing.assert_array_equal(loaded.x_train[..., 0], arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(loaded.y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_fetch_replaces_a_corrupted_file(http_server, tmp_path):
    spec, _ = _small_mnist_like(http_server, np.random.default_rng(4))
    fetch_dataset(spec, tmp_path, policy=FAST_RETRIES, progress=False, quiet=True)
    labels = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-5])  # truncated
    outcomes = fetch_dataset(spec, tmp_path, policy=FAST_RETRIES, progress=False, quiet=True)
    assert [o.action for o in outcomes] == ["already verified"] * 3 + ["downloaded"]
    assert gzip.decompress(labels.read_bytes())[:4] == bytes([0, 0, 8, 1])


def test_cli_fetch_writes_a_manifest_and_reports_failure(http_server, tmp_path, monkeypatch, capsys):
    spec, _ = _small_mnist_like(http_server, np.random.default_rng(5))
    monkeypatch.setitem(registry.DATASETS, "mnist", spec)
    manifest = tmp_path / "out" / "mnist.json"
    rc = igr_main(["data", "fetch", "mnist", "--data-dir", str(tmp_path / "d"), "--quiet",
                   "--manifest", str(manifest), "--backoff", "0.01"])
    assert rc == 0
    record = json.loads(manifest.read_text())
    assert record["dataset"] == "mnist"
    assert [f["sha256_of_content"] for f in record["files"]] == [f.sha256 for f in spec.files]
    assert [f["content_bytes"] for f in record["files"]] == [50 * 784 + 16, 58, 20 * 784 + 16, 28]

    # A server that has lost a file: exit status 1 and an explanation naming it.
    http_server.files.pop("/mnist/t10k-labels-idx1-ubyte.gz")
    capsys.readouterr()
    rc = igr_main(["data", "fetch", "mnist", "--data-dir", str(tmp_path / "other"), "--quiet",
                   "--retries", "1", "--backoff", "0.01"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz" in err and "HTTP 404" in err
    assert not (tmp_path / "other" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_download_error_is_a_dataset_error():
    assert issubclass(DownloadError, DatasetError)
    assert issubclass(DatasetError, ValueError)
