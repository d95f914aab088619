"""The exception for bad input that a user can fix: the CLI prints it as one line, exit 2.

Stages raise :class:`InputError` before any work starts (before a run folder is made or a
file is written), with a message that names the option, the file or the value at fault.
"""

from __future__ import annotations

#: Exit status of a command stopped by bad input (as argparse's usage errors).
EXIT_BAD_INPUT = 2


class InputError(ValueError):
    """An option, input file or value is unusable; the message names it."""
