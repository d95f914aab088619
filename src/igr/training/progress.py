"""Progress lines for long loops that are not training epochs (evaluation passes).

``ProgressLog("igr vae evaluate: discrete bound", total)`` prints
``<label>: 3000/10000 examples | elapsed 31s | ETA 1m12s`` on stderr at most every
``interval`` seconds (10 by default) and once when the pass ends, so that a job log never
goes silent for long. TF-free.
"""

from __future__ import annotations

import sys
import time

#: Seconds between two progress lines of one pass.
PROGRESS_INTERVAL_S = 10.0


def duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``2h04m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLog:
    """Counts finished units of a pass of known size and prints a line now and then."""

    def __init__(self, label: str, total: int, unit: str = "examples",
                 interval: float = PROGRESS_INTERVAL_S, stream=None, clock=time.monotonic):
        self.label, self.total, self.unit = label, int(total), unit
        self.interval, self.stream, self.clock = interval, stream or sys.stderr, clock
        self.done = 0
        self.started = self._last = clock()

    def line(self) -> str:
        elapsed = self.clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return (
            f"{self.label}: {self.done}/{self.total} {self.unit} | elapsed {duration(elapsed)}"
            f" | ETA {duration(eta)}"
        )

    def advance(self, count: int) -> None:
        self.done += int(count)
        now = self.clock()
        if now - self._last >= self.interval or self.done >= self.total:
            self._last = now
            print(self.line(), file=self.stream, flush=True)
