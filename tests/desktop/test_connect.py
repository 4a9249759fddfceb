"""The console connects to an Outpost server by its URL (server mode: PostgreSQL and Redis) and administers it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.connect_dialog import ConnectDialog, recent_servers, remember_server, url_problem, url_warning
from tests.backend_process import BackendProcess
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, START_TIMEOUT_MS
from tests.server_deployment import server_deployment_env

ADMIN = {"email": "remote-admin@example.org", "password": "administered from afar"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    root = tmp_path_factory.mktemp("console-server")
    with server_deployment_env(root, ADMIN) as env:
        process = BackendProcess(root / "instance", env=env)
        try:
            process.wait_ready()
            yield process
        finally:
            process.kill()


def answer_connect_dialog(url: str) -> None:
    """Once the Connect dialog is up, choose the server at url and connect."""
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, ConnectDialog), dialog
    dialog.address.setEditText(url)
    assert dialog.server.isChecked(), "typing an address chooses the server"
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()


def test_the_console_connects_to_a_server_by_url_and_administers_it(
    qtbot: QtBot, console: Console, server: BackendProcess
) -> None:
    console.window.show()
    QTimer.singleShot(0, lambda: answer_connect_dialog(server.url))
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS) as shown:
        console.window.connect_button.click()
    assert console.host.pid is None, "no local backend is started for a server"
    login = shown.args[0]
    assert login.windowTitle() == "Sign in", "server mode has no first-administrator dialog"
    login.set_value("email", ADMIN["email"])
    login.set_value("password", ADMIN["password"])
    with qtbot.waitSignal(console.api.signed_in, timeout=API_TIMEOUT_MS):
        login.submit_button.click()
    assert server.url in console.window.windowTitle()

    facts: dict[str, Any] = {}
    console.api.system(facts.update)
    qtbot.waitUntil(lambda: bool(facts), timeout=API_TIMEOUT_MS)
    assert facts["mode"] == "server"
    assert facts["database_engine"].startswith("PostgreSQL")
    made: list[Any] = []
    body = {"email": "field@example.org", "password": "seven long words out in the rain", "roles": ["viewer"]}
    console.api.request("POST", "/api/v1/users", made.append, made.append, body=body)
    qtbot.waitUntil(lambda: bool(made), timeout=API_TIMEOUT_MS)
    assert isinstance(made[0], dict), made[0]
    assert made[0]["email"] == "field@example.org"
    assert recent_servers(console.sign_in.remembered)[0] == server.url.rstrip("/")


def test_addresses_are_checked_and_remembered(tmp_path: Path) -> None:
    assert url_problem("outpost.example.org") is not None
    assert url_problem("https://outpost.example.org/api") is not None
    assert url_problem("https://outpost.example.org") is None
    assert "not encrypted" in url_warning("http://outpost.example.org")
    assert url_warning("http://127.0.0.1:8765") == ""
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    for url in ("https://a.example", "https://b.example", "https://a.example"):
        remember_server(settings, url)
    assert recent_servers(settings) == ["https://a.example", "https://b.example"]
