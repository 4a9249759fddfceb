"""The console against a real backend process: dashboard data, supervision, attach, API errors."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from backend import __version__
from backend.db.migrate import head_revision
from desktop.api import ApiError
from desktop.app import Console, application, build_console
from desktop.backend_host import HostState
from tests.backend_process import BackendProcess
from tests.desktop.conftest import sign_in_through_dialog

START_TIMEOUT_MS = 60_000


def start_and_wait_for_dashboard(qtbot: QtBot, console: Console) -> None:
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS):
        console.host.start()
    with qtbot.waitSignal(console.dashboard.refreshed, timeout=START_TIMEOUT_MS):
        sign_in_through_dialog(console)


def test_dashboard_shows_the_backends_facts(qtbot: QtBot, console: Console) -> None:
    start_and_wait_for_dashboard(qtbot, console)
    assert console.dashboard.version_card.value.text() == f"Outpost {__version__}"
    assert console.dashboard.data_dir_card.value.text() == str(console.host.data_dir)
    assert console.dashboard.revision_card.value.text() == head_revision()
    assert console.dashboard.size_card.value.text().endswith("KiB")
    pill, detail = console.dashboard.readiness_rows["database"]
    assert pill.text() == "Ready"
    assert detail.text() == f"SQLite {sqlite3.sqlite_version}, schema revision {head_revision()}"
    # The console's backend takes 8765, or a free port when a parallel test's backend holds it (and says so).
    assert console.window.status_text.text() in ("Connected", "Connected (port 8765 was in use)")
    assert console.window.status_url.text() == console.host.url
    assert not console.host.attached


def test_killed_backend_shows_lost_then_connected_after_restart(qtbot: QtBot, console: Console) -> None:
    start_and_wait_for_dashboard(qtbot, console)
    first_pid = console.host.pid
    assert first_pid

    states: list[str] = []
    console.host.state_changed.connect(lambda state, _detail: states.append(state))
    os.kill(first_pid, signal.SIGKILL)

    qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=10_000)
    assert console.window.status_text.text() == "The backend stopped; restarting…"
    qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
    assert console.host.pid not in (None, first_pid)
    assert states.index(HostState.LOST.value) < len(states) - 1
    # "Connected", or "Connected (port 8765 was in use)" when another program took 8765 during the restart.
    assert console.window.status_text.text().startswith("Connected")


def test_closing_the_window_stops_the_child_backend(qtbot: QtBot, console: Console) -> None:
    start_and_wait_for_dashboard(qtbot, console)
    process = console.host._process
    assert process is not None
    console.window.close()
    assert process.exitCode() == 0
    assert console.host.state == HostState.STOPPED
    assert not (console.host.data_dir / "runtime.json").exists()


def test_attaches_to_a_backend_already_running(qtbot: QtBot, tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data")
    application()
    console = build_console(tmp_path / "data")
    qtbot.addWidget(console.window)
    try:
        backend.wait_ready()
        start_and_wait_for_dashboard(qtbot, console)
        assert console.host.attached
        assert console.host.pid is None
        assert console.host.url == backend.url
        assert console.window.status_text.text() == "Connected (attached)"
        console.host.stop()
        # An attached backend belongs to someone else: stopping the console leaves it running.
        assert backend.process.poll() is None

        # When that backend goes away, the console notices and starts its own.
        console.host.start()
        qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
        assert backend.stop() == 0
        qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=20_000)
        qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
        assert not console.host.attached
        assert console.host.pid is not None
    finally:
        console.window.close()
        backend.kill()


def test_problem_json_becomes_api_error_with_field_errors(qtbot: QtBot, console: Console) -> None:
    start_and_wait_for_dashboard(qtbot, console)
    errors: list[ApiError] = []
    console.api.request(
        "PATCH", "/api/v1/settings", lambda _data: None, errors.append, body={"sqlite_synchronous": "MAYBE"}
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    error = errors[0]
    assert error.status == 422
    assert error.type == "urn:outpost:problem:validation"
    assert "sqlite_synchronous" in error.field_errors()
    assert error.request_id


def test_unreachable_backend_is_an_api_error_not_an_exception(qtbot: QtBot, console: Console) -> None:
    console.api.set_base_url("http://127.0.0.1:9")  # discard port: nothing listens
    errors: list[ApiError] = []
    console.api.health(lambda _data: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert errors[0].status == 0
    assert errors[0].type == "network"


def test_a_reply_cut_off_after_its_headers_is_a_network_error(qtbot: QtBot, console: Console) -> None:
    # What a backend killed mid-reply looks like: "200 OK" and a body that never arrives in full.
    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer_half() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")

        threading.Thread(target=answer_half, daemon=True).start()
        console.api.set_base_url(f"http://127.0.0.1:{server.getsockname()[1]}")
        results: list[object] = []
        console.api.get("/api/v1/users", results.append, results.append)
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    assert isinstance(results[0], ApiError)
    assert results[0].status == 0


def free_port() -> int:
    """A port nothing listens on now (the test's stand-in for the default 8765)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_the_consoles_backend_listens_on_the_configured_port(
    qtbot: QtBot, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("OUTPOST_PORT", str(port))
    with qtbot.waitSignal(console.host.connected, timeout=START_TIMEOUT_MS):
        console.host.start()
    assert console.host.url == f"http://127.0.0.1:{port}"
    assert console.host.port_note == ""
    assert console.window.status_text.text() == "Connected"


def test_the_consoles_backend_takes_a_free_port_when_the_configured_one_is_taken_and_says_so(
    qtbot: QtBot, console: Console, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as other_program:
        port = other_program.getsockname()[1]
        monkeypatch.setenv("OUTPOST_PORT", str(port))
        with qtbot.waitSignal(console.host.connected, timeout=START_TIMEOUT_MS):
            console.host.start()
        assert console.host.url.startswith("http://127.0.0.1:")
        assert console.host.url != f"http://127.0.0.1:{port}"
        note = f"port {port} was taken by another program, so the backend took a free one"
        assert console.host.port_note == note
        assert console.window.status_text.text() == f"Connected (port {port} was in use)"
        assert console.window.status_text.toolTip() == note
        assert console.window.status_url.text() == console.host.url
        assert f"{note}: {console.host.url}" in caplog.text
