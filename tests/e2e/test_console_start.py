"""The console started as a person starts it: on a real X display, with a library missing, under the C locale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.backend_process import SOURCE_PROGRAM
from tests.xvfb import on_x11, xvfb_display

START_TIMEOUT_S = 120

# Runs the CLI with one library the xcb platform needs made unloadable, as on a machine without its package.
HIDING_CURSOR_LIBRARY = """
import ctypes, sys
real_cdll = ctypes.CDLL
class CDLLWithoutCursor(real_cdll):
    def __init__(self, name, *args, **kwargs):
        if str(name).endswith("libxcb-cursor.so.0"):
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        super().__init__(name, *args, **kwargs)
ctypes.CDLL = CDLLWithoutCursor
from backend.cli import main
sys.argv[0] = "outpost"
main()
"""


def test_console_opens_its_window_on_a_real_x_display(tmp_path: Path) -> None:
    with xvfb_display() as display:
        done = subprocess.run(
            [*SOURCE_PROGRAM, "gui", "--quit-when-shown", "--data-dir", str(tmp_path / "data")],
            env=on_x11(display),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "console window shown on the xcb platform" in done.stderr, done.stderr


def test_a_missing_xcb_library_is_named_by_package_instead_of_a_qt_abort(tmp_path: Path) -> None:
    # No X server is needed: the check comes before Qt, which would abort (134) on this display.
    env = {**on_x11(":65000"), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", HIDING_CURSOR_LIBRARY, "gui", "--data-dir", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "libxcb-cursor.so.0" in done.stderr
    assert "apt-get install libxcb-cursor0" in done.stderr
    assert "dnf install xcb-util-cursor" in done.stderr
    assert "Qt" in done.stderr
    assert "platform plugin" not in done.stderr  # what Qt says as it aborts


def test_the_window_check_under_the_c_locale_prints_no_locale_warning() -> None:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    done = subprocess.run(
        [*SOURCE_PROGRAM, "selftest"], env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "window" in done.stdout
    assert "Detected locale" not in done.stderr, done.stderr


# Runs `python -m desktop` (as runpy does) with the xcb cursor library unloadable; says whether Qt got loaded.
DESKTOP_MODULE_WITHOUT_CURSOR_LIBRARY = HIDING_CURSOR_LIBRARY.replace(
    'from backend.cli import main\nsys.argv[0] = "outpost"\nmain()\n',
    """import runpy
try:
    runpy.run_module("desktop", run_name="__main__", alter_sys=True)
finally:
    print("Qt loaded" if "PySide6.QtWidgets" in sys.modules else "Qt not loaded", file=sys.stderr)
""",
)


def test_python_m_desktop_runs_the_same_preflight_before_qt(tmp_path: Path) -> None:
    env = {**on_x11(":65000"), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", DESKTOP_MODULE_WITHOUT_CURSOR_LIBRARY, str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "apt-get install libxcb-cursor0" in done.stderr
    assert "Qt not loaded" in done.stderr


def without_a_display() -> dict[str, str]:
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    return {**{k: v for k, v in os.environ.items() if k not in hidden}, "QT_QPA_PLATFORM": ""}


def test_no_display_exits_1_like_a_missing_library_from_either_entry_point(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    for program in ([*SOURCE_PROGRAM, "gui", "--data-dir", data], [sys.executable, "-m", "desktop", data]):
        done = subprocess.run(
            program,
            env=without_a_display(),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 1, (program, done.stdout + done.stderr)
        assert "error: the console has no display" in done.stderr
        assert "outpost serve" in done.stderr
