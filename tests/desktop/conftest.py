"""GUI fixtures: a console wired to a real backend process on a temporary data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Console, application, build_console
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def sign_in_through_dialog(console: Console, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Fill whichever sign-in dialog is open (first administrator or login) and submit it."""
    dialog = console.sign_in.dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.set_value("email", email)
    dialog.set_value("password", password)
    if "confirm" in dialog.inputs:
        dialog.set_value("display_name", "Ada Admin")
        dialog.set_value("confirm", password)
    dialog.submit_button.click()


@pytest.fixture
def console(qtbot: QtBot, tmp_path: Path) -> Iterator[Console]:
    """The whole console on a fresh data dir; its backend is started by the test."""
    application()
    built = build_console(tmp_path / "data")
    qtbot.addWidget(built.window)
    yield built
    built.window.close()  # stops the child backend and abandons requests in flight
