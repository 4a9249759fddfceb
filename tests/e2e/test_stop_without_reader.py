"""A backend whose console died (nobody reads its stdout any more) still stops on SIGTERM and SIGINT."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend_process import READY_TIMEOUT_S


def read_ready_line(process: subprocess.Popen[bytes]) -> dict[str, object]:
    """The first stdout event, waiting at most READY_TIMEOUT_S (a hung start fails, never blocks)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(READY_TIMEOUT_S), "no ready event"
    return dict(json.loads(process.stdout.readline()))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("close_stderr_too", [False, True], ids=["stdout-closed", "stdout-and-stderr-closed"])
def test_stops_with_exit_0_after_the_reader_of_stdout_is_gone(
    tmp_path: Path, sig: signal.Signals, close_stderr_too: bool
) -> None:
    stderr_target: int | object = subprocess.PIPE if close_stderr_too else (tmp_path / "stderr.txt").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend", "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=stderr_target,  # type: ignore[arg-type]
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert read_ready_line(process)["event"] == "ready"
        assert process.stdout is not None
        process.stdout.close()  # the console crashed: nothing reads the backend's stdout now
        if close_stderr_too:
            assert process.stderr is not None
            process.stderr.close()
        process.send_signal(sig)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if not close_stderr_too:
            stderr_target.close()  # type: ignore[union-attr]
