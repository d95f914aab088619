"""SIGTERM handling shared by a whole training command, and the test hook that pauses it.

A cluster pre-empts a job with SIGTERM. A training command installs :func:`guard` as its
first step; from then until it exits, SIGTERM only sets a flag. The
:class:`~igr.training.Trainer` checks the flag before every step, before and after each
end-of-epoch evaluation, and when it starts; it then saves a checkpoint and raises
:class:`~igr.training.TrainingPreempted`. The command checks the flag again after training
and after its final writes, so SIGTERM at any point after start-up ends it with exit status
75 (rerun to resume) and never with the signal's own status.

Test hook: with ``IGR_TEST_PAUSE_AT`` set to ``step:N`` (before global step N),
``evaluation:E`` (after the evaluation of epoch E) or ``final-write`` (before the command's
last write), the command writes the marker file ``paused-at-<point>`` into its run folder
when it gets there and waits (at most 120 s) until SIGTERM arrives, so a test can signal it
at a known state instead of after a sleep. A run folder pauses at a point once: a resumed or
requeued run finds the marker and goes on. The variable has no effect when unset.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: Exit status of a run stopped by SIGTERM after saving a checkpoint (EX_TEMPFAIL: rerun it).
EXIT_PREEMPTED = 75

PAUSE_AT_ENV_VAR = "IGR_TEST_PAUSE_AT"
PAUSE_LIMIT_S = 120.0

_state = {"requested": False, "depth": 0, "previous": None}


def stop_requested() -> bool:
    """True once SIGTERM arrived (or :func:`request_stop` was called) under a guard."""
    return _state["requested"]


def request_stop() -> None:
    """Do what SIGTERM does: ask the training to checkpoint and stop."""
    _state["requested"] = True


def preempted_after_training(command: str) -> int:
    """Report a SIGTERM that arrived after the training's last checkpoint; returns 75."""
    import sys

    print(
        f"{command}: SIGTERM received: the checkpoint of the finished training is saved; "
        "rerun to resume",
        file=sys.stderr,
    )
    return EXIT_PREEMPTED


def _on_sigterm(signum, frame) -> None:
    _state["requested"] = True


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """While active (re-entrant), SIGTERM sets the stop flag instead of ending the process.

    The outermost guard clears the flag when it starts and restores the previous handler when
    it ends. Outside the main thread (where Python cannot install handlers) it does nothing.
    """
    main = threading.current_thread() is threading.main_thread()
    if main and _state["depth"] == 0:
        _state["requested"] = False
        _state["previous"] = signal.signal(signal.SIGTERM, _on_sigterm)
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        if main and _state["depth"] == 0 and _state["previous"] is not None:
            signal.signal(signal.SIGTERM, _state["previous"])
            _state["previous"] = None


def pause_requested_at() -> str | None:
    """The pause point named by ``IGR_TEST_PAUSE_AT`` (None when unset)."""
    return os.environ.get(PAUSE_AT_ENV_VAR) or None


def pause_step() -> int | None:
    """N of ``IGR_TEST_PAUSE_AT=step:N``, else None."""
    point = pause_requested_at()
    if point and point.startswith("step:"):
        return int(point.split(":", 1)[1])
    return None


def pause_marker(run_dir: str | os.PathLike[str], name: str) -> Path:
    """The marker a run writes into its run folder when it pauses at ``name``."""
    return Path(run_dir) / f"paused-at-{name.replace(':', '-')}"


def pause_point(name: str, run_dir: str | os.PathLike[str]) -> None:
    """If ``IGR_TEST_PAUSE_AT`` names ``name`` and this run folder has not paused there yet:
    write the marker and wait for SIGTERM (at most :data:`PAUSE_LIMIT_S`)."""
    if pause_requested_at() != name:
        return
    marker = pause_marker(run_dir, name)
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    temporary = marker.with_name(marker.name + ".part")
    temporary.write_text(f"{name}\n")
    os.replace(temporary, marker)
    started = time.monotonic()
    while not stop_requested() and time.monotonic() - started < PAUSE_LIMIT_S:
        time.sleep(0.01)
