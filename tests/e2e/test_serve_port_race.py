"""`outpost serve` when its port is taken after the pre-check: the port is held from the check on, and a
failure to serve on it at any later moment is one error event and one log line, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.backend_process import BackendProcess

# The CLI with another program taking the port the moment `serve` has bound it (SO_REUSEADDR lets a second
# socket bind a port nobody listens on yet): the window between the pre-check and uvicorn's listen.
TAKING_THE_PORT_AFTER_THE_CHECK = """
import socket, sys
import backend.server as server
real_bind = server._bind
held = []
def bind_then_take(host, port):
    sock = real_bind(host, port)
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        other.bind((host, sock.getsockname()[1]))
        other.listen()
        held.append(other)
        print("another program took the port", file=sys.stderr)
    except OSError as exc:
        print(f"another program could not take the port: {exc}", file=sys.stderr)
    return sock
server._bind = bind_then_take
from backend.cli import main
main()
"""

# The CLI with the event loop refusing to serve on the socket (as listen() does when the port was taken):
# the failure comes inside uvicorn's start, after "Application startup complete".
REFUSED_INSIDE_THE_SERVER_START = """
import asyncio, errno, socket
real_create_server = asyncio.BaseEventLoop.create_server
async def refused(self, *args, sock=None, **kwargs):
    if sock is not None and sock.family == socket.AF_INET:
        raise OSError(errno.EADDRINUSE, "Address already in use")
    return await real_create_server(self, *args, sock=sock, **kwargs)
asyncio.BaseEventLoop.create_server = refused
from backend.cli import main
main()
"""


def test_the_port_is_held_from_the_check_so_another_program_cannot_take_it(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data", program=(sys.executable, "-c", TAKING_THE_PORT_AFTER_THE_CHECK))
    try:
        event = backend.wait_ready()
        assert event["url"].startswith("http://127.0.0.1:")
        assert any("another program could not take the port" in line for line in backend.stderr_lines)
    finally:
        backend.kill()


def test_a_failure_to_serve_after_startup_is_one_error_event_and_exit_1(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data", program=(sys.executable, "-c", REFUSED_INSIDE_THE_SERVER_START))
    try:
        event = backend.next_event()
        assert event["event"] == "error", event
        assert event["message"].startswith("cannot listen on 127.0.0.1:"), event
        assert "Address already in use" in event["message"]
        assert backend.process.wait(timeout=60) == 1
        assert backend.next_event()["event"] == "eof"  # nothing else on stdout
        backend.stop()  # joins the stderr reader
        stderr = "\n".join(backend.stderr_lines)
        assert "Traceback" not in stderr, stderr
        said = [line for line in backend.stderr_lines if "cannot listen" in line]
        assert len(said) == 1, stderr
        assert backend.stderr_lines[-1] == said[0]  # the last word, after the app's orderly shutdown
    finally:
        backend.kill()
