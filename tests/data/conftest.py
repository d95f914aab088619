"""Fixtures for the data tests: the real data directory and a local HTTP server.

The server listens on 127.0.0.1 (port chosen by the OS) in a background thread; no test
touches any other network address.
"""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pytest

from igr.data.paths import DATA_DIR_ENV_VAR

from .data_helpers import FixtureServer, FixtureRequestHandler


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder named by IGR_DATA_DIR (CI sets it to the offline copies in shared/data)."""
    value = os.environ.get(DATA_DIR_ENV_VAR)
    if not value:
        pytest.skip(f"{DATA_DIR_ENV_VAR} is not set: the real MNIST/Fashion-MNIST tests need it")
    path = Path(value)
    if not (path / "mnist").is_dir():
        pytest.skip(f"{DATA_DIR_ENV_VAR}={value} holds no mnist/ folder")
    return path


@pytest.fixture
def http_server():
    """A :class:`FixtureServer` running on 127.0.0.1 for the duration of one test."""
    fixture = FixtureServer()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FixtureRequestHandler)
    server.daemon_threads = True
    server.fixture = fixture
    host, port = server.server_address[:2]
    fixture.base_url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fixture
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
