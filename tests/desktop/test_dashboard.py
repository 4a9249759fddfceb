"""The dashboard's words agree with the connection and the session (the status bar says the same)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.app import Console
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, START_TIMEOUT_MS, signed_in_console


def test_behind_the_first_admin_dialog_the_dashboard_says_to_sign_in(qtbot: QtBot, console: Console) -> None:
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS):
        console.host.start()
    assert console.window.status_text.text().startswith("Connected")
    words = console.dashboard.subtitle.text()
    assert "Waiting" not in words
    assert "Sign in to see" in words


def test_after_signing_out_the_dashboard_says_its_values_are_old(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    assert console.dashboard.cards.isEnabled()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS):
        console.window.sign_out_button.click()
    assert console.window.status_text.text().startswith("Connected")
    assert "Sign in to see" in console.dashboard.subtitle.text()
    assert not console.dashboard.cards.isEnabled()
    assert "sign in" in console.dashboard.updated.text().lower()
