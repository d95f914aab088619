"""Helpers for the data tests: synthetic IDX archives and a local HTTP server's handler.

The server (see the ``http_server`` fixture in conftest.py) listens on 127.0.0.1 only.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import struct
import threading
from collections import defaultdict

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def gzip_bytes(content: bytes) -> bytes:
    return gzip.compress(content, mtime=0)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class FixtureServer:
    """What the HTTP handler serves, how it misbehaves, and what it was asked."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        #: per path, the behaviour of successive requests; "ok" once the list is used up.
        #: "drop": send half the body then close; "ignore-range": answer 200 with the whole
        #: file; "corrupt": flip one byte of the body; "503"/"404": that HTTP error.
        self.plans: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        self.base_url = ""

    def serve(self, path: str, content: bytes, *plan: str) -> str:
        self.files[path] = content
        self.plans[path] = list(plan)
        return self.base_url + path

    def next_behaviour(self, path: str) -> str:
        with self.lock:
            plan = self.plans[path]
            return plan.pop(0) if plan else "ok"

    def requests_for(self, path: str) -> list[str | None]:
        """The Range header of each request for ``path`` (None when absent)."""
        return [range_header for requested, range_header in self.requests if requested == path]


class FixtureRequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: closing it ends the body

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        fixture: FixtureServer = self.server.fixture
        range_header = self.headers.get("Range")
        with fixture.lock:
            fixture.requests.append((self.path, range_header))
        behaviour = fixture.next_behaviour(self.path)
        body = fixture.files.get(self.path)
        if body is None or behaviour == "404":
            self.send_error(404, "Not Found")
            return
        if behaviour == "503":
            self.send_error(503, "Service Unavailable")
            return
        if behaviour == "corrupt":
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
        start = 0
        if range_header and behaviour != "ignore-range":
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if behaviour == "drop":
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)


