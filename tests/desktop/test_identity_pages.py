"""The console's identity flows against a real backend: first admin, login, users, API keys, roles, refresh."""

from __future__ import annotations

import json
import stat

import httpx
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.api_keys import SecretDialog
from desktop.widgets.confirm import destructive_button
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.desktop.conftest import sign_in_through_dialog

START_TIMEOUT_MS = 60_000
API_TIMEOUT_MS = 15_000


def signed_in_console(qtbot: QtBot, console: Console) -> None:
    """Start the backend, create the first administrator through the dialog, wait for the dashboard."""
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS) as shown:
        console.host.start()
    assert shown.args[0].windowTitle() == "Create the first administrator"
    with qtbot.waitSignal(console.dashboard.refreshed, timeout=START_TIMEOUT_MS):
        sign_in_through_dialog(console)


def test_first_admin_then_login_remembers_the_email_not_the_password(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    assert console.window.account.text() == f"Signed in as {ADMIN_EMAIL}"

    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as shown:
        console.window.sign_out_button.click()
    login = shown.args[0]
    assert login.windowTitle() == "Sign in"
    assert login.values()["email"] == ADMIN_EMAIL  # remembered
    assert login.values()["password"] == ""
    stored = (console.host.data_dir / "console.ini").read_text()
    assert ADMIN_EMAIL in stored
    assert (console.host.data_dir / "console.ini").stat().st_mode & 0o077 == 0  # owner-only, like the data dir
    assert ADMIN_PASSWORD not in stored

    # A wrong password: the API's reason appears in the dialog, which stays open.
    login.set_value("password", "not the right passphrase")
    login.submit_button.click()
    qtbot.waitUntil(lambda: login.general_error.isVisible(), timeout=API_TIMEOUT_MS)
    assert "email or password is not right" in login.general_error.text()
    assert login.isVisible()

    with qtbot.waitSignal(console.api.signed_in, timeout=API_TIMEOUT_MS):
        login.set_value("password", ADMIN_PASSWORD)
        login.submit_button.click()
    assert not login.isVisible()


def test_the_first_admin_dialog_sends_the_setup_token_from_the_data_dir(qtbot: QtBot, console: Console) -> None:
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS) as shown:
        console.host.start()
    token_file = console.host.data_dir / "setup.token"
    assert token_file.exists()
    # Any other local process, without the token, is refused.
    body = {"email": "intruder@example.org", "password": ADMIN_PASSWORD}
    assert httpx.post(f"{console.api.base_url}/api/v1/setup", json=body).status_code == 403
    with qtbot.waitSignal(console.dashboard.refreshed, timeout=START_TIMEOUT_MS):
        sign_in_through_dialog(console)
    assert shown.args[0].windowTitle() == "Create the first administrator"
    assert not token_file.exists()


def test_the_console_keeps_a_device_token_that_gets_it_past_a_locked_account(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    tokens_file = console.host.data_dir / "device_tokens.json"
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert set(json.loads(tokens_file.read_text())) == {ADMIN_EMAIL}
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as shown:
        console.window.sign_out_button.click()
    # Someone else hammers the account with wrong passwords until it is held back for clients without a token.
    body = {"email": ADMIN_EMAIL, "password": "not the right passphrase"}
    replies = [httpx.post(f"{console.api.base_url}/api/v1/auth/login", json=body).status_code for _ in range(7)]
    assert replies[-1] == 429, replies
    login = shown.args[0]
    with qtbot.waitSignal(console.api.signed_in, timeout=API_TIMEOUT_MS):
        login.set_value("password", ADMIN_PASSWORD)
        login.submit_button.click()
    assert not login.isVisible()


def test_create_a_user_and_an_api_key_through_the_pages_and_the_key_works(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)

    # Users page: a bad email and a common password are shown next to their fields; then a good one.
    console.window.show_page("Users")
    with qtbot.waitSignal(console.users.loaded, timeout=API_TIMEOUT_MS):
        console.users.refresh()
    console.users.new_user()
    dialog = console.users.dialog
    assert dialog is not None
    dialog.set_value("email", "not-an-email")
    dialog.set_value("display_name", "Bo Okafor")
    dialog.set_value("password", "password1234")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: dialog.field_errors["password"].isVisible(), timeout=API_TIMEOUT_MS)
    assert "too common" in dialog.field_errors["password"].text()
    assert "not an email" in dialog.field_errors["email"].text()
    dialog.set_value("email", "bo@field.example")
    dialog.set_value("password", "bo has a long passphrase")
    dialog.set_value("roles", ["editor"])
    with qtbot.waitSignal(console.users.loaded, timeout=API_TIMEOUT_MS):
        dialog.submit_button.click()
    emails = {row["email"]: row for row in console.users.model.rows}
    assert emails["bo@field.example"]["roles"] == ["editor"]

    # API keys page: create a key with one scope; the secret is shown once.
    console.window.show_page("API keys")
    with qtbot.waitSignal(console.api_keys.loaded, timeout=API_TIMEOUT_MS):
        console.api_keys.refresh()
    qtbot.waitUntil(lambda: bool(console.api_keys.permissions), timeout=API_TIMEOUT_MS)
    console.api_keys.new_key()
    key_dialog = console.api_keys.dialog
    key_dialog.set_value("name", "inspection sync")
    key_dialog.set_value("scopes", ["system:read"])
    with qtbot.waitSignal(console.api_keys.loaded, timeout=API_TIMEOUT_MS):
        key_dialog.submit_button.click()
    secret_dialog = console.api_keys.dialog
    assert isinstance(secret_dialog, SecretDialog)
    key = secret_dialog.secret.text()
    assert key.startswith("opk_")
    secret_dialog.copy_button.click()
    assert secret_dialog.copy_button.text() == "Copied"
    assert all(key not in str(row) for row in console.api_keys.model.rows)  # never listed again

    # The new key works against the API, within its scope only.
    url = console.host.url
    assert httpx.get(f"{url}/api/v1/system", headers={"X-API-Key": key}, timeout=10).status_code == 200
    assert httpx.get(f"{url}/api/v1/users", headers={"X-API-Key": key}, timeout=10).status_code == 403

    # Revoking it through the page stops it at once.
    assert console.api_keys.select_where("name", "inspection sync")
    console.api_keys.revoke()
    box = console.api_keys.dialog
    with qtbot.waitSignal(console.api_keys.loaded, timeout=API_TIMEOUT_MS):
        destructive_button(box).click()
    assert httpx.get(f"{url}/api/v1/system", headers={"X-API-Key": key}, timeout=10).status_code == 401


def test_role_matrix_edits_a_custom_role(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    created: list[object] = []
    console.api.request(
        "POST", "/api/v1/roles", created.append, created.append, body={"name": "auditor", "permissions": []}
    )
    qtbot.waitUntil(lambda: bool(created), timeout=API_TIMEOUT_MS)
    console.window.show_page("Roles")  # which loads the page again, the new role with it
    qtbot.waitUntil(lambda: any(role["name"] == "auditor" for role in console.roles.roles), timeout=API_TIMEOUT_MS)
    admin_column = [role["name"] for role in console.roles.roles].index("admin")
    assert not (
        console.roles.matrix.item(1, admin_column).flags()
        & console.roles.matrix.item(1, admin_column).flags().ItemIsEnabled
    )

    console.roles.set_granted("auditor", "audit:read", True)
    assert console.roles.save_button.isEnabled()
    with qtbot.waitSignal(console.roles.loaded, timeout=API_TIMEOUT_MS):
        console.roles.save()
    auditor = next(role for role in console.roles.roles if role["name"] == "auditor")
    assert auditor["permissions"] == ["audit:read"]
    assert not console.roles.save_button.isEnabled()


def test_an_expired_access_token_is_refreshed_silently(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    session = console.api.session
    assert session is not None
    old_refresh = session.refresh_token
    session.access_token = "expired.or.forged"  # what the backend would say of a stale token: 401
    results: list[object] = []
    console.api.system(results.append, results.append)
    console.api.get("/api/v1/auth/me", results.append, results.append)  # both wait for one refresh
    qtbot.waitUntil(lambda: len(results) == 2, timeout=API_TIMEOUT_MS)
    assert all(isinstance(result, dict) for result in results), results
    assert console.api.session is session
    assert session.refresh_token != old_refresh  # rotated once, not twice (a second would have been 409)


def test_an_ended_session_returns_to_the_login_dialog(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    session = console.api.session
    assert session is not None
    session.access_token = "stale"
    session.refresh_token = "revoked"
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=API_TIMEOUT_MS) as shown:
        console.dashboard.refresh()
    assert shown.args[0].windowTitle() == "Sign in"
    assert "session has ended" in shown.args[0].findChild(type(console.window.account), "dialogIntro").text()
    assert console.window.account.text() == ""
    assert console.api.session is None


def test_change_ones_own_password_through_the_dialog(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    console.window.password_button.click()
    dialog = console.sign_in.password_dialog
    assert dialog is not None
    dialog.set_value("current_password", "not my password at all")
    dialog.set_value("new_password", "a brand new passphrase 7")
    dialog.set_value("confirm", "a brand new passphrase 7")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: dialog.field_errors["current_password"].isVisible(), timeout=API_TIMEOUT_MS)

    dialog.set_value("current_password", ADMIN_PASSWORD)
    dialog.set_value("confirm", "something else entirely")
    dialog.submit_button.click()
    assert dialog.field_errors["confirm"].isVisible()  # checked here, before asking the backend

    old_refresh = console.api.session.refresh_token if console.api.session else ""
    dialog.set_value("confirm", "a brand new passphrase 7")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=API_TIMEOUT_MS)
    assert console.api.session is not None
    assert console.api.session.refresh_token != old_refresh
    # The session carries on under its new tokens, with no sign-in dialog.
    with qtbot.waitSignal(console.dashboard.refreshed, timeout=API_TIMEOUT_MS):
        console.dashboard.refresh()
    assert console.dashboard.banner.isHidden()
    replies: list[object] = []
    body = {"email": ADMIN_EMAIL, "password": "a brand new passphrase 7"}
    console.api.request("POST", "/api/v1/auth/login", replies.append, replies.append, body=body)
    qtbot.waitUntil(lambda: bool(replies), timeout=API_TIMEOUT_MS)
    assert isinstance(replies[0], dict)


def test_the_roles_page_shows_roles_beyond_the_first_page(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    with httpx.Client(base_url=console.host.url, headers=headers, timeout=10) as client:
        for number in range(55):  # with the built-in roles, more than one page of 50
            created = client.post("/api/v1/roles", json={"name": f"crew-{number:02}", "permissions": []})
            assert created.status_code == 201, created.text
        expected = {"crew-54", *(role["name"] for role in client.get("/api/v1/roles").json()["items"])}
    console.window.show_page("Roles")
    console.roles.refresh()
    # A load started at sign-in may answer first (without the crews): wait for the one that has them.
    qtbot.waitUntil(lambda: {role["name"] for role in console.roles.roles} >= expected, timeout=API_TIMEOUT_MS)
    names = [role["name"] for role in console.roles.roles]
    assert len(names) == len(set(names)) > 50
    assert console.roles.matrix.columnCount() == len(names)
