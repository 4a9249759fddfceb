"""After the backend dies and BackendHost restarts it, the session lives on and the pages come back."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.backend_host import HostState
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, START_TIMEOUT_MS, signed_in_console


class OtherOutpost(BaseHTTPRequestHandler):
    """Another program on the port: an Outpost that knows none of our tokens, so answers 401 to all of them."""

    def _refuse(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"status": 401, "detail": "The access token is not valid."}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse  # noqa: N815 (http.server's names)

    def log_message(self, *_args: object) -> None:
        """Quiet."""


def serve_in_thread(port: int) -> ThreadingHTTPServer:
    """OtherOutpost listening on port, served by a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), OtherOutpost)
    server.paths = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class StalledReply:
    """A server that answers with headers and then a body that never ends: a request to it stays under way.

    It sends a byte now and then, so Qt's transfer timeout (which counts silence) never gives up on it.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._received: list[bytes] = []  # appended by each connection's thread (an append is atomic)
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def paths(self) -> set[str]:
        """The paths requested so far."""
        return {head.split(b" ", 2)[1].decode() for head in self._received if head.count(b" ") >= 2}

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            # A shared `+= 1` from two threads can lose one: a load, a thread switch, a store.
            self._received.append(connection.recv(65536))
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
            try:
                connection.sendall(head)
                while not self.stopped.wait(0.5):
                    connection.sendall(b" ")
            except OSError:
                return

    def close(self) -> None:
        """Stop answering; the connections close."""
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def stalled() -> Iterator[StalledReply]:
    """A StalledReply server, closed after the test."""
    server = StalledReply()
    yield server
    server.close()


def test_a_program_on_the_dead_backends_port_does_not_end_the_session(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    port = QUrl(console.api.base_url).port()
    others: list[ThreadingHTTPServer] = []

    def take_the_port(state: str, _detail: str) -> None:
        if state == HostState.LOST and not others:
            others.append(serve_in_thread(port))  # the moment the backend is gone, before its restart

    console.host.state_changed.connect(take_the_port)
    try:
        console.host._process.kill()
        qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=API_TIMEOUT_MS)
        assert others, "the port was not free once the backend died"
        # F5 (or the dashboard's own timer) while the backend is away: nothing may go to whoever holds its port.
        with qtbot.waitSignal(console.dashboard.refreshed, timeout=API_TIMEOUT_MS):
            console.window.refresh()
        assert console.api.session is not None, "the session ended"
        qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
        qtbot.waitUntil(console.dashboard.cards.isEnabled, timeout=START_TIMEOUT_MS)
        assert console.api.session is not None
        assert console.sign_in.dialog is None or not console.sign_in.dialog.isVisible()
        # Nothing new went there, above all no refresh token. (A GET under way when the backend died may be
        # resent there by Qt's own retry on a closed connection: its 401 must not, and did not, end the session.)
        assert "/api/v1/auth/refresh" not in others[0].paths, others[0].paths  # type: ignore[attr-defined]
        assert "/api/v1/system" not in others[0].paths, others[0].paths  # type: ignore[attr-defined]
        assert console.host.port_taken == port or console.api.base_url != f"http://127.0.0.1:{port}"
    finally:
        for server in others:
            server.shutdown()
            server.server_close()


def test_a_refresh_still_under_way_does_not_swallow_the_one_after_a_restart(
    qtbot: QtBot, console: Console, stalled: StalledReply
) -> None:
    signed_in_console(qtbot, console)
    real_url = console.api.base_url
    # A dashboard refresh whose replies never finish (as to a backend that hangs, then dies).
    console.api.set_base_url(stalled.url)
    console.dashboard.refresh()
    # By path, not by count: the console's own calls (a health poll, a page's load) may come here too.
    qtbot.waitUntil(lambda: {"/api/v1/system", "/ready"} <= stalled.paths, timeout=API_TIMEOUT_MS)
    console.api.set_base_url(real_url)
    console.host._process.kill()
    qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=API_TIMEOUT_MS)
    assert not console.dashboard.cards.isEnabled()
    qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
    qtbot.waitUntil(console.dashboard.cards.isEnabled, timeout=START_TIMEOUT_MS)
    # "Updated" once the readiness has come too.
    qtbot.waitUntil(lambda: console.dashboard.updated.text().startswith("Updated "), timeout=API_TIMEOUT_MS)
    assert console.dashboard.banner.isHidden()


def test_the_page_on_show_reloads_when_the_backend_is_back(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    console.window.show_page("Users")
    qtbot.waitUntil(lambda: console.users.model.rowCount() == 1, timeout=API_TIMEOUT_MS)
    console.host._process.kill()
    qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=API_TIMEOUT_MS)
    with qtbot.waitSignal(console.users.loaded, timeout=START_TIMEOUT_MS):
        qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
    assert console.users.model.rowCount() == 1
