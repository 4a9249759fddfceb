"""Destructive actions ask first; Return chooses Cancel; only Tab to the red button and Space carries them out."""

from __future__ import annotations

from typing import Any

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.widgets.confirm import DESTRUCTIVE, destructive_button
from desktop.widgets.form_dialog import FormDialog
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

MAX_TABS = 6


def admin_client(console: Console) -> httpx.Client:
    """The signed-in administrator's session, over plain HTTP, to set up and check what the page did."""
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    return httpx.Client(base_url=console.host.url, headers=headers, timeout=10)


def press(qtbot: QtBot, dialog: QWidget, key: Qt.Key) -> None:
    """Press key where the keyboard focus is, as a person would."""
    qtbot.keyClick(QApplication.focusWidget() or dialog, key)


def tab_to(qtbot: QtBot, dialog: QWidget, button: QPushButton) -> None:
    """Tab through the dialog until button has the focus."""
    for _ in range(MAX_TABS):
        if button.hasFocus():
            return
        press(qtbot, dialog, Qt.Key.Key_Tab)
    assert button.hasFocus(), f"Tab never reached {button.text()!r}"


def shown_confirmation(qtbot: QtBot, dialog: object) -> QMessageBox:
    assert isinstance(dialog, QMessageBox), "the action ran without asking"
    qtbot.waitUntil(dialog.isVisible, timeout=API_TIMEOUT_MS)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=API_TIMEOUT_MS)
    button = destructive_button(dialog)
    assert button.objectName() == DESTRUCTIVE  # painted red by the stylesheet
    assert_painted_red(button)
    assert not button.autoDefault()
    assert not button.isDefault()
    return dialog


def assert_painted_red(button: QPushButton) -> None:
    """The button, as drawn, is red (a name the stylesheet matches is not enough: it must have been applied)."""
    image = button.grab().toImage()
    colour = image.pixelColor(image.width() // 8, image.height() // 2)  # inside the border, left of the text
    assert colour.red() > colour.green() + 60, colour.name()
    assert colour.red() > colour.blue() + 60, colour.name()


def shown_user(qtbot: QtBot, console: Console, email: str, *, active: bool) -> None:
    """Wait until the Users page lists email in that state (a load begun at sign-in may answer first), select it."""
    qtbot.waitUntil(
        lambda: any(u["email"] == email and u["is_active"] is active for u in console.users.model.rows),
        timeout=API_TIMEOUT_MS,
    )
    assert console.users.select_where("email", email)


def user_named(client: httpx.Client, email: str) -> dict[str, Any]:
    return next(u for u in client.get("/api/v1/users").json()["items"] if u["email"] == email)


def test_disabling_a_user_asks_and_return_cancels_tab_space_disables(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        body = {"email": "bo@field.example", "display_name": "Bo", "password": "bo has a long passphrase"}
        assert client.post("/api/v1/users", json=body).status_code == 201
        console.window.show_page("Users")
        console.users.refresh()
        shown_user(qtbot, console, "bo@field.example", active=True)

        console.users.toggle_button.click()
        box = shown_confirmation(qtbot, console.users.dialog)
        press(qtbot, box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not box.isVisible(), timeout=API_TIMEOUT_MS)
        assert box.clickedButton() is box.button(QMessageBox.StandardButton.Cancel)
        with qtbot.waitSignal(console.users.loaded, timeout=API_TIMEOUT_MS):
            console.users.refresh()  # had Return disabled Bo, the PATCH would have been sent before this
        assert user_named(client, "bo@field.example")["is_active"]

        shown_user(qtbot, console, "bo@field.example", active=True)
        console.users.toggle_button.click()
        box = shown_confirmation(qtbot, console.users.dialog)
        tab_to(qtbot, box, destructive_button(box))
        press(qtbot, box, Qt.Key.Key_Space)
        shown_user(qtbot, console, "bo@field.example", active=False)  # the page reloads after the PATCH
        assert not user_named(client, "bo@field.example")["is_active"]


def test_return_in_the_reset_password_dialog_does_not_reset_it(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        body = {"email": "bo@field.example", "display_name": "Bo", "password": "bo has a long passphrase"}
        assert client.post("/api/v1/users", json=body).status_code == 201
        console.window.show_page("Users")
        console.users.refresh()
        shown_user(qtbot, console, "bo@field.example", active=True)
        console.users.password_button.click()
        dialog = console.users.dialog
        assert isinstance(dialog, FormDialog)
        qtbot.waitUntil(dialog.isVisible, timeout=API_TIMEOUT_MS)
        assert dialog.submit_button.objectName() == DESTRUCTIVE
        assert_painted_red(dialog.submit_button)
        field = dialog.inputs["password"]
        field.setFocus()
        qtbot.keyClicks(field, "a new long passphrase 9")
        press(qtbot, dialog, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=API_TIMEOUT_MS)  # Return is Cancel here
        assert dialog.result() == FormDialog.DialogCode.Rejected
        login = {"email": "bo@field.example", "password": "bo has a long passphrase"}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200  # the old password still works


def test_deleting_a_role_return_cancels_tab_space_deletes(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        assert client.post("/api/v1/roles", json={"name": "auditor", "permissions": []}).status_code == 201
        console.window.show_page("Roles")
        console.roles.refresh()
        qtbot.waitUntil(lambda: "auditor" in [r["name"] for r in console.roles.roles], timeout=API_TIMEOUT_MS)
        console.roles.matrix.selectColumn([r["name"] for r in console.roles.roles].index("auditor"))

        console.roles.delete_button.click()
        box = shown_confirmation(qtbot, console.roles.dialog)
        press(qtbot, box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not box.isVisible(), timeout=API_TIMEOUT_MS)
        assert box.clickedButton() is box.button(QMessageBox.StandardButton.Cancel)
        with qtbot.waitSignal(console.roles.loaded, timeout=API_TIMEOUT_MS):
            console.roles.refresh()
        assert client.get("/api/v1/roles/auditor").status_code == 200

        console.roles.matrix.selectColumn([r["name"] for r in console.roles.roles].index("auditor"))
        console.roles.delete_button.click()
        box = shown_confirmation(qtbot, console.roles.dialog)
        tab_to(qtbot, box, destructive_button(box))
        press(qtbot, box, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: "auditor" not in [r["name"] for r in console.roles.roles], timeout=API_TIMEOUT_MS)
        assert client.get("/api/v1/roles/auditor").status_code == 404
