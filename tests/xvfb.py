"""An Xvfb X server on a free display, for running the console on the real xcb platform."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

DISPLAY_TIMEOUT_S = 30


def require_xvfb() -> str:
    """Xvfb's path; skip without it, except under CI=true, where its absence is a failure."""
    path = shutil.which("Xvfb")
    if path:
        return path
    reason = "Xvfb is not installed (apt-get install xvfb): the console's real X11 start is not checked"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def xvfb_display() -> Iterator[str]:
    """A running Xvfb on a display it chose itself (-displayfd), as ":N"; stopped afterwards."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [require_xvfb(), "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "1440x900x24"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        # Xvfb writes the display number once it accepts connections: that is the readiness to wait on.
        ready, _, _ = select.select([read_end], [], [], DISPLAY_TIMEOUT_S)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number:
            server.kill()
            _, stderr = server.communicate(timeout=10)
            raise AssertionError(f"Xvfb did not start: {stderr.decode(errors='replace')[-2000:]}")
        yield f":{number}"
    finally:
        os.close(read_end)
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)


def on_x11(display: str) -> dict[str, str]:
    """This environment, with the console on display through Qt's default platform (xcb), not offscreen."""
    env = {key: value for key, value in os.environ.items() if key not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    return {**env, "DISPLAY": display, "XDG_SESSION_TYPE": "x11"}
