"""Keep TensorFlow's start-up banner out of job logs (TF-free).

``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's C++ logging, but a few lines are written
to file descriptor 2 before absl logging is initialised and ignore it::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:1796195378.717540    7098 port.cc:153] oneDNN custom operations are on. ...
    I0000 00:00:1796195378.717887    7098 cudart_stub.cc:31] Could not find cuda drivers ...

:func:`quiet_tensorflow` sets the variable (unless the user set it) and routes fd 2 through
a thread that drops exactly those lines (:data:`BANNER`) and passes everything else on,
in order. ``igr`` calls it at start-up; ``TF_CPP_MIN_LOG_LEVEL=0`` keeps the full output.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

#: The pre-absl start-up lines of TensorFlow's C++ runtime.
BANNER = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    rb"STDERR|I0000 [\d:. ]+ +\d+ (port|cudart_stub|cpu_feature_guard|cuda_executor|"
    rb"cuda_dnn|cuda_fft|cuda_blas)\.cc:\d+\].*)$"
)


def is_banner(line: bytes) -> bool:
    return BANNER.match(line.rstrip(b"\r\n")) is not None


def quiet_tensorflow(environ=os.environ) -> bool:
    """Set ``TF_CPP_MIN_LOG_LEVEL=3`` unless the user set it, and filter the banner from
    fd 2 unless the user asked for every log line (``TF_CPP_MIN_LOG_LEVEL=0``). Returns True
    when the filter was installed."""
    environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if environ["TF_CPP_MIN_LOG_LEVEL"].strip() == "0":
        return False
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced (pytest capture)
        return False
    original = os.dup(stderr_fd)
    read_end, write_end = os.pipe()
    os.dup2(write_end, stderr_fd)
    os.close(write_end)

    def forward() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                kept = b"".join(line + b"\n" for line in lines if not is_banner(line))
                if kept:
                    os.write(original, kept)
            if pending and not is_banner(pending):
                os.write(original, pending)

    thread = threading.Thread(target=forward, name="igr-stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:
        sys.stderr.flush()
        os.dup2(original, stderr_fd)  # closes the pipe's last write end: the thread drains
        thread.join(timeout=5)

    atexit.register(restore)
    return True
