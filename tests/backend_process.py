"""A real `outpost serve` process for end-to-end tests: started, its ready event read, stopped."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 60


SOURCE_PROGRAM = (sys.executable, "-m", "backend")


class BackendProcess:
    """`outpost serve --port 0` (or another command) on a data dir (from source unless program says), its stdout
    events queued."""

    def __init__(
        self,
        data_dir: Path,
        *extra_args: str,
        program: tuple[str, ...] = SOURCE_PROGRAM,
        env: dict[str, str] | None = None,
        command: str = "serve",
    ) -> None:
        self.data_dir = data_dir
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [
                *program,
                command,
                *(("--port", "0") if command == "serve" else ()),
                "--data-dir",
                str(data_dir),
                *extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr_lines: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = ""

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))  # stdout must carry only JSON events
        self.events.put({"event": "eof"})

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr_lines.append(line.decode(errors="replace").rstrip())

    def next_event(self, timeout: float = READY_TIMEOUT_S) -> dict[str, Any]:
        """The next stdout event, waiting up to timeout seconds."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no event from the backend; stderr:\n" + "\n".join(self.stderr_lines[-20:])) from None

    def wait_ready(self) -> dict[str, Any]:
        """Block until the ready event; its fields."""
        event = self.next_event()
        assert event["event"] == "ready", f"{event}; stderr:\n" + "\n".join(self.stderr_lines[-20:])
        self.url = event.get("url", "")  # a worker serves no HTTP
        return event

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Send the signal and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:  # the pipes' last lines, read before anyone looks at them
            reader.join(timeout=timeout)
        return code

    def kill(self) -> None:
        """Kill it if it is still running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def run_outpost(
    *args: str, stdin: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI from source to completion; stdin is its standard input (closed when None); env adds to ours."""
    return subprocess.run(
        [*SOURCE_PROGRAM, *args],
        env={**os.environ, **env} if env else None,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
