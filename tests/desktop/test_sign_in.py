"""The first-administrator dialog gives way to the sign-in dialog once an administrator exists (made elsewhere)."""

from __future__ import annotations

import httpx
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.widgets.form_dialog import FormDialog
from tests.conftest import ADMIN_PASSWORD, setup_token_header
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, START_TIMEOUT_MS

ELSEWHERE_EMAIL = "curl@field.example"


def first_admin_dialog(qtbot: QtBot, console: Console) -> FormDialog:
    """The console started on a new instance; its first-administrator dialog."""
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS) as shown:
        console.host.start()
    dialog = shown.args[0]
    assert dialog.windowTitle() == "Create the first administrator"
    return dialog


def create_admin_elsewhere(console: Console) -> None:
    """What the README's curl does: POST /api/v1/setup with the token from the data dir."""
    body = {"email": ELSEWHERE_EMAIL, "display_name": "Curl", "password": ADMIN_PASSWORD}
    headers = setup_token_header(console.host.data_dir)
    assert httpx.post(f"{console.api.base_url}/api/v1/setup", json=body, headers=headers).status_code == 201


def intro(dialog: FormDialog) -> str:
    """The dialog's sentence under its title."""
    label = dialog.findChild(QLabel, "dialogIntro")
    assert label is not None
    return label.text()


def test_submitting_after_an_admin_was_made_elsewhere_opens_the_sign_in_dialog(qtbot: QtBot, console: Console) -> None:
    dialog = first_admin_dialog(qtbot, console)
    create_admin_elsewhere(console)
    for field, value in (("email", "me@field.example"), ("display_name", "Me"), ("password", ADMIN_PASSWORD)):
        dialog.set_value(field, value)
    dialog.set_value("confirm", ADMIN_PASSWORD)
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as shown:
        dialog.submit_button.click()
    login = shown.args[0]
    assert login.windowTitle() == "Sign in"
    assert login.isVisible()
    assert not dialog.isVisible()
    assert "created for this Outpost instance from elsewhere" in intro(login)
    # And it works: the account made elsewhere signs in.
    login.set_value("email", ELSEWHERE_EMAIL)
    login.set_value("password", ADMIN_PASSWORD)
    with qtbot.waitSignal(console.api.signed_in, timeout=API_TIMEOUT_MS):
        login.submit_button.click()
    assert console.window.isVisible()


def test_an_open_first_admin_dialog_notices_an_admin_made_elsewhere(qtbot: QtBot, console: Console) -> None:
    dialog = first_admin_dialog(qtbot, console)
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as shown:
        create_admin_elsewhere(console)
    login = shown.args[0]
    assert login.windowTitle() == "Sign in"
    assert not dialog.isVisible()
    assert "Sign in with that account" in intro(login)
