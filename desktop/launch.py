"""Starting the console, from `python -m desktop` and `outpost gui` alike: the preflight first, then Qt.

This module imports no Qt at import time: whatever stops the console from starting on this machine
(no display, a missing library) is said in words and exits 1, instead of Qt's abort (exit 134).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from desktop.preflight import console_environment_problem, missing_libraries, missing_libraries_message, use_utf8_locale

CANNOT_START = 1  # the console cannot start here (no display, a library missing): the message says why


def launch(data_dir: str | None = None, quit_when_shown: bool = False) -> int:
    """Check the machine, then open the console; the process's exit code."""
    problem = console_environment_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return CANNOT_START
    try:
        from desktop.app import run_gui  # Qt loads here, once the machine is known to have what it needs
    except ImportError as exc:
        print(
            f"error: the console cannot load Qt ({exc}).\n"
            "  It needs the desktop libraries (libGL, libEGL, libxkbcommon, fontconfig); on a headless\n"
            "  machine run the backend alone: outpost serve",
            file=sys.stderr,
        )
        return CANNOT_START
    return run_gui(data_dir, quit_when_shown)


def selftest_window(data_dir: Path) -> str:
    """selftest's window check: the offscreen platform's libraries by package, then the window rendered."""
    offscreen = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    missing = missing_libraries(offscreen)
    if missing:
        raise RuntimeError(missing_libraries_message(missing, offscreen).replace("\n ", ";"))
    use_utf8_locale(os.environ)
    # Imported inside the check, so a machine without Qt's libraries fails this check by name.
    from desktop.app import selftest_window as render

    return render(data_dir)
