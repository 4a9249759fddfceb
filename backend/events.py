"""One-line JSON events on stdout: the GUI's only view of a child backend's state."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def emit_event(event: str, **fields: Any) -> bool:
    """Write one event line to stdout and flush it at once; whether anyone could still receive it.

    A console that crashed leaves the pipe with no reader: the event is dropped rather than raised,
    so a stop or a start never fails for want of an audience.
    """
    try:
        sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # BrokenPipeError, or stdout already closed
        _silence_stdout()
        return False
    return True


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; into a dead pipe that prints an error and exits 120.
    # Pointing the descriptor at /dev/null keeps later writes and that final flush harmless.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
