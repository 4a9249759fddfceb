"""BackendHost: start (or attach to) the local backend, watch it, restart it, stop it."""

from __future__ import annotations

import collections
import fcntl
import json
import logging
import os
import sys
import time
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from desktop.api import ApiClient, ApiError

logger = logging.getLogger("outpost.console")

HEALTH_INTERVAL_MS = 2000
READY_TIMEOUT_MS = 60_000
STOP_TIMEOUT_MS = 5000
RESTART_DELAYS_S = (1, 2, 4, 8, 16, 30)
STABLE_AFTER_S = 15  # a backend up this long has recovered: the next crash restarts fast again
STDERR_LINES_KEPT = 200


class HostState(StrEnum):
    """Where the console stands with its backend."""

    STARTING = "starting"
    CONNECTED = "connected"
    LOST = "lost"
    STOPPED = "stopped"


def backend_command(data_dir: Path) -> list[str]:
    """How to run `outpost serve` as a child: the executable itself when frozen."""
    # The configured port (OUTPOST_PORT, else 8765), so the README's examples reach the console's backend;
    # a free one when another program holds it, rather than no backend at all.
    args = ["serve", "--free-port-if-taken", "--data-dir", str(data_dir)]
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "backend", *args]


def read_runtime(data_dir: Path) -> dict[str, object] | None:
    """The running backend's runtime.json (its URL and pid), if readable."""
    try:
        data = json.loads((data_dir / "runtime.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def lock_held(data_dir: Path) -> bool:
    """Whether a process holds the data directory's lock (the backend's, or a CLI command's)."""
    try:
        fd = os.open(data_dir / "outpost.lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def port_note(port_taken: object) -> str:
    """What to tell the person when the backend could not have its configured port; empty when it has it."""
    if not port_taken:
        return ""
    return f"port {port_taken} was taken by another program, so the backend took a free one"


class BackendHost(QObject):
    """Owns the console's connection to a backend: a child it supervises, one it attached to, or a server."""

    state_changed = Signal(str, str)  # HostState value, detail (URL or reason)
    connected = Signal(str)  # backend URL

    def __init__(
        self,
        api: ApiClient,
        data_dir: Path,
        command: list[str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.data_dir = data_dir
        self.command = command or backend_command(data_dir)
        self.state = HostState.STOPPED
        self.detail = ""
        self._last_error = ""
        self.url = ""
        self.port_note = ""  # set when the configured port was taken and the backend listens elsewhere
        self.port_taken: int | None = None  # ...and that port
        self.attached = False
        self.server_url = ""  # a server the console was told to connect to: no local backend is started then
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._process: QProcess | None = None
        self._stdout_buffer = b""
        self._stopping = False
        self._failures = 0
        self._health_misses = 0
        self._connected_at = 0.0
        self._health_timer = QTimer(self, interval=HEALTH_INTERVAL_MS)
        self._health_timer.timeout.connect(self._check_health)
        self._restart_timer = QTimer(self, singleShot=True)
        self._restart_timer.timeout.connect(self.start)
        self._ready_timer = QTimer(self, singleShot=True, interval=READY_TIMEOUT_MS)
        self._ready_timer.timeout.connect(self._ready_timed_out)

    @property
    def pid(self) -> int | None:
        """The child backend's process id, when the console started it."""
        if self._process is None:
            return None
        return int(self._process.processId()) or None

    def connect_to(self, server_url: str) -> None:
        """From now on, the server at server_url ("" for this machine's backend, started or attached as before)."""
        self.stop()
        self.server_url = server_url.rstrip("/")
        self.start()

    def start(self) -> None:
        """Attach to the server named, or to the backend running on the data dir, or start one."""
        self._stopping = False
        if self.server_url:
            self._set_state(HostState.STARTING, f"Connecting to {self.server_url}…")
            self._attach(self.server_url)
            return
        self._set_state(HostState.STARTING, "Looking for a running backend…")
        runtime = read_runtime(self.data_dir)
        if lock_held(self.data_dir):
            if runtime and runtime.get("url"):
                self._attach(str(runtime["url"]))
            else:
                # Held but not serving yet: a backend starting, or a CLI command at work.
                self._set_state(HostState.STARTING, "Waiting for the data directory to be free…")
                self._restart_timer.start(500)
            return
        self._spawn()

    def stop(self) -> None:
        """Stop watching; a child backend is asked to stop, then killed if it will not."""
        self._stopping = True
        self._health_timer.stop()
        self._restart_timer.stop()
        self._ready_timer.stop()
        self._forget_url()
        process = self._process
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()  # SIGTERM: the backend stops gracefully, exit code 0
            if not process.waitForFinished(STOP_TIMEOUT_MS):
                process.kill()
                process.waitForFinished(1000)
        self._set_state(HostState.STOPPED, "")

    def _attach(self, url: str) -> None:
        self.attached = True
        self.url = url
        self.port_note = ""
        self.port_taken = None
        self.api.set_base_url(url)
        self._set_state(HostState.STARTING, f"Attaching to {url}…")
        self._health_misses = 0
        self._health_timer.start()
        self._check_health()

    def _spawn(self) -> None:
        self.attached = False
        self._forget_url()
        self._stdout_buffer = b""
        process = QProcess(self)
        process.setProgram(self.command[0])
        process.setArguments(self.command[1:])
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._child_finished)
        process.errorOccurred.connect(self._child_error)
        self._process = process
        self._set_state(HostState.STARTING, "Starting the backend…")
        self._ready_timer.start()
        process.start()

    def _read_stdout(self) -> None:
        process = self.sender()
        if not isinstance(process, QProcess):
            return
        self._stdout_buffer += bytes(process.readAllStandardOutput().data())
        while b"\n" in self._stdout_buffer:
            line, self._stdout_buffer = self._stdout_buffer.split(b"\n", 1)
            self._handle_event(line)

    def _handle_event(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        if event.get("event") == "ready":
            self._ready_timer.stop()
            self.url = str(event["url"])
            self.port_note = port_note(event.get("port_taken"))
            self.port_taken = int(event["port_taken"]) if event.get("port_taken") else None
            if self.port_note:
                logger.warning("%s: %s", self.port_note, self.url)
            self.api.set_base_url(self.url)
            self._health_misses = 0
            self._health_timer.start()
            self._mark_connected()
        elif event.get("event") == "error":
            self._last_error = str(event.get("message", ""))

    def _read_stderr(self) -> None:
        process = self.sender()
        if isinstance(process, QProcess):
            text = bytes(process.readAllStandardError().data()).decode(errors="replace")
            self.stderr_tail.extend(line for line in text.splitlines() if line)

    def _child_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._child_finished(-1, QProcess.ExitStatus.CrashExit)

    def _child_finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        self._health_timer.stop()
        self._ready_timer.stop()
        if self._stopping:
            return
        reason = self._last_error or (self.stderr_tail[-1] if self.stderr_tail else f"exit code {exit_code}")
        self._lose(f"The backend stopped ({reason}).")

    def _ready_timed_out(self) -> None:
        if self._process is not None:
            self._process.kill()  # _child_finished schedules the retry

    def _check_health(self) -> None:
        self.api.health(self._health_ok, self._health_failed)

    def _health_ok(self, _data: object) -> None:
        self._health_misses = 0
        if self.state != HostState.CONNECTED:
            self._mark_connected()

    def _health_failed(self, error: ApiError) -> None:
        self._health_misses += 1
        # A child's death is reported by its process; only an attached backend is judged by health.
        if self.attached and self._health_misses >= 2 and not self._stopping:
            self._health_timer.stop()
            self._lose(f"The backend at {self.url} stopped answering ({error.detail}).")

    def _mark_connected(self) -> None:
        self._connected_at = time.monotonic()
        self._last_error = ""
        self._set_state(HostState.CONNECTED, self.url)
        self.connected.emit(self.url)

    def _forget_url(self) -> None:
        """Send nothing to the old address: once its backend is gone, another program may listen there.

        (Another Outpost there answers our token with 401, and the refresh that follows would end our session.)
        """
        self.url = ""
        self.api.set_base_url("")

    def _lose(self, reason: str) -> None:
        self._forget_url()
        if self._connected_at and time.monotonic() - self._connected_at > STABLE_AFTER_S:
            self._failures = 0
        self._connected_at = 0.0
        delay = RESTART_DELAYS_S[min(self._failures, len(RESTART_DELAYS_S) - 1)]
        self._failures += 1
        self._set_state(HostState.LOST, f"{reason} Restarting in {delay} s…")
        self._restart_timer.start(delay * 1000)

    def _set_state(self, state: HostState, detail: str) -> None:
        self.state = state
        self.detail = detail
        self.state_changed.emit(state.value, detail)
