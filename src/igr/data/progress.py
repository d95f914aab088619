"""A download progress bar: tqdm when it is installed, plain stderr lines otherwise."""

from __future__ import annotations

import sys
import time


def _megabytes(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB"


class ProgressBar:
    """Reports bytes received for one file. Use as a context manager."""

    def __init__(self, label: str, total: int | None, initial: int = 0, enabled: bool = True):
        self.label = label
        self.total = total
        self.done = initial
        self.enabled = enabled
        self._bar = None
        self._last_print = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self._print_line(force=True)
        else:
            self._bar = tqdm(
                total=total,
                initial=initial,
                desc=label,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                leave=True,
            )

    def update(self, num_bytes: int) -> None:
        self.done += num_bytes
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(num_bytes)
        else:
            self._print_line()

    def _print_line(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_print < 2.0:
            return
        self._last_print = now
        if self.total:
            share = f" ({100.0 * self.done / self.total:.0f}%)"
            print(
                f"{self.label}: {_megabytes(self.done)} of {_megabytes(self.total)}{share}",
                file=sys.stderr,
            )
        else:
            print(f"{self.label}: {_megabytes(self.done)}", file=sys.stderr)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self._print_line(force=True)
