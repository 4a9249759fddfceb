"""The new-key dialog lists every scope one may give, each with what it allows, neither cut off nor cramped."""

from __future__ import annotations

import httpx
from PySide6.QtWidgets import QTreeWidget
from pytestqt.qtbot import QtBot

from backend.auth.permissions import CATALOGUE
from desktop.app import Console
from desktop.widgets.form_dialog import DESCRIBED_CHECKS_ROWS, FormDialog
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

EDITOR = ("ed@field.example", "ed has a long passphrase")
EDITOR_SCOPES = {
    "system:read",
    "collections:read",
    "records:read",
    "records:write",
    "api_keys:read",
    "api_keys:write",
    "jobs:read",  # editors see, cancel and retry background jobs (migration 0009)
    "jobs:write",
}


def open_new_key_dialog(qtbot: QtBot, console: Console, holds: set[str]) -> QTreeWidget:
    console.window.show_page("API keys")
    console.api_keys.catalogue = {}
    console.api_keys.refresh()
    qtbot.waitUntil(
        lambda: bool(console.api_keys.catalogue) and set(console.api_keys.permissions) == holds, timeout=API_TIMEOUT_MS
    )
    console.api_keys.new_button.click()
    dialog = console.api_keys.dialog
    assert isinstance(dialog, FormDialog)
    qtbot.waitExposed(dialog)
    scopes = dialog.inputs["scopes"]
    assert isinstance(scopes, QTreeWidget), "scopes are a bare list with no place for what they mean"
    return scopes


def shown_scopes(scopes: QTreeWidget) -> dict[str, str]:
    items = [scopes.topLevelItem(row) for row in range(scopes.topLevelItemCount())]
    return {item.text(0): item.text(1) for item in items}


def assert_nothing_cut_off(scopes: QTreeWidget) -> None:
    header = scopes.header()
    viewport = scopes.viewport()
    assert header.sectionSize(0) >= scopes.sizeHintForColumn(0)  # the scope names fit
    assert header.sectionPosition(1) + header.sectionSize(1) <= viewport.width()  # descriptions wrap inside
    assert not scopes.horizontalScrollBar().isVisible()
    shown = min(scopes.topLevelItemCount(), DESCRIBED_CHECKS_ROWS)
    first_rows = [scopes.visualItemRect(scopes.topLevelItem(row)) for row in range(shown)]
    assert all(rect.bottom() <= viewport.height() for rect in first_rows), "the list is cramped below its rows"
    last = scopes.topLevelItem(scopes.topLevelItemCount() - 1)
    scopes.scrollToItem(last)
    rect = scopes.visualItemRect(last)
    assert 0 <= rect.top() < rect.bottom() <= viewport.height(), "the last scope cannot be scrolled to"


def test_every_scope_is_shown_with_what_it_allows_for_an_admin_and_an_editor(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    scopes = open_new_key_dialog(qtbot, console, {"*"})
    shown = shown_scopes(scopes)
    assert set(shown) == {"*", *CATALOGUE}
    assert all(shown[name] == text for name, text in CATALOGUE.items())
    assert shown["*"].startswith("Everything")
    assert_nothing_cut_off(scopes)
    scopes.parent().reject()

    # An editor may make keys but not read roles: the descriptions still come, from /api/v1/permissions.
    session = console.api.session
    assert session is not None
    with httpx.Client(base_url=console.host.url, timeout=10) as client:
        body = {"email": EDITOR[0], "display_name": "Ed", "password": EDITOR[1], "roles": ["editor"]}
        headers = {"Authorization": f"Bearer {session.access_token}"}
        assert client.post("/api/v1/users", json=body, headers=headers).status_code == 201
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as login:
        console.window.sign_out_button.click()
    with qtbot.waitSignal(console.api.signed_in, timeout=API_TIMEOUT_MS):
        login.args[0].set_value("email", EDITOR[0])
        login.args[0].set_value("password", EDITOR[1])
        login.args[0].submit_button.click()
    scopes = open_new_key_dialog(qtbot, console, EDITOR_SCOPES)
    shown = shown_scopes(scopes)
    assert set(shown) == EDITOR_SCOPES
    assert all(shown[name] == CATALOGUE[name] for name in EDITOR_SCOPES)
    assert_nothing_cut_off(scopes)
