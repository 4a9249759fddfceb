"""The console's frame (issue 9): page registry, reload on show, keyboard, selection, tables, notices, layout."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.backend_host import HostState
from tests.conftest import ADMIN_PASSWORD
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, START_TIMEOUT_MS, signed_in_console

CTRL = Qt.KeyboardModifier.ControlModifier


def call(qtbot: QtBot, console: Console, method: str, path: str, body: Any = None) -> Any:
    """One API call as the signed-in administrator, waited for; its reply."""
    results: list[Any] = []
    console.api.request(method, path, results.append, results.append, body=body)
    qtbot.waitUntil(lambda: bool(results), timeout=API_TIMEOUT_MS)
    assert isinstance(results[0], dict | type(None)), results[0]
    return results[0]


def add_user(qtbot: QtBot, console: Console, email: str, roles: list[str]) -> None:
    """A user made straight through the API (not through the Users page)."""
    body = {"email": email, "display_name": email.split("@")[0], "password": "a long enough passphrase", "roles": roles}
    call(qtbot, console, "POST", "/api/v1/users", body)


def active_console(qtbot: QtBot, console: Console) -> None:
    """Signed in, with the window active so its shortcuts answer."""
    signed_in_console(qtbot, console)
    console.window.activateWindow()
    qtbot.waitUntil(console.window.isActiveWindow, timeout=API_TIMEOUT_MS)


def test_16_pages_are_registered_from_one_list(qtbot: QtBot, console: Console) -> None:
    from desktop.pages.registry import PAGES

    names = [spec.name for spec in PAGES]
    assert names == ["dashboard", "users", "roles", "api_keys", "audit", "collections", "records", "jobs", "backups"]
    assert [console.window.nav.item(row).text() for row in range(console.window.nav.count())] == [
        spec.title for spec in PAGES
    ]
    assert [spec.shortcut for spec in PAGES] == [f"Ctrl+{number}" for number in range(1, len(PAGES) + 1)]
    for spec in PAGES:
        assert console.pages[spec.name] is getattr(console, spec.name)


def test_5_a_page_reloads_when_it_is_shown(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    qtbot.waitUntil(lambda: len(console.roles.roles) > 0, timeout=API_TIMEOUT_MS)
    qtbot.waitUntil(lambda: console.audit.model.rowCount() > 0, timeout=API_TIMEOUT_MS)
    add_user(qtbot, console, "ed@field.example", ["editor"])
    # Changed behind the pages' backs: showing them must fetch again.
    console.window.show_page("Roles")
    qtbot.waitUntil(
        lambda: any(r["name"] == "editor" and r["users"] == 1 for r in console.roles.roles), timeout=API_TIMEOUT_MS
    )
    console.window.show_page("Audit log")
    qtbot.waitUntil(
        lambda: any(row["action"] == "user.create" for row in console.audit.model.rows), timeout=API_TIMEOUT_MS
    )
    # A write made while a page is on show (here from the status bar's password dialog) reloads it too.
    console.window.password_button.click()
    dialog = console.sign_in.password_dialog
    for field in ("current_password", "new_password", "confirm"):
        dialog.set_value(field, ADMIN_PASSWORD if field == "current_password" else "a brand new passphrase 7")
    dialog.submit_button.click()
    qtbot.waitUntil(
        lambda: any(row["action"] == "auth.change_password" for row in console.audit.model.rows),
        timeout=API_TIMEOUT_MS,
    )


def test_6_keyboard_tab_leaves_tables_and_shortcuts_drive_the_pages(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    window = console.window
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    assert window.stack.currentWidget() is console.users
    with qtbot.waitSignal(console.users.loaded, timeout=API_TIMEOUT_MS):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is console.users.search

    # Tab out of the table reaches the next control rather than the next cell.
    console.users.table.setFocus()
    qtbot.waitUntil(console.users.table.hasFocus, timeout=API_TIMEOUT_MS)
    qtbot.keyClick(console.users.table, Qt.Key.Key_Tab)
    assert not console.users.table.hasFocus()
    assert not console.roles.matrix.tabKeyNavigation()

    qtbot.keyClick(window, Qt.Key.Key_N, CTRL)
    qtbot.waitUntil(lambda: console.users.dialog is not None and console.users.dialog.isVisible(), timeout=5000)
    console.users.dialog.reject()
    window.activateWindow()  # as the window manager does when a dialog closes
    qtbot.waitUntil(window.isActiveWindow, timeout=API_TIMEOUT_MS)

    # Del asks before revoking the selected key.
    call(qtbot, console, "POST", "/api/v1/api-keys", {"name": "doomed", "scopes": ["system:read"]})
    qtbot.keyClick(window, Qt.Key.Key_4, CTRL)
    assert window.stack.currentWidget() is console.api_keys
    qtbot.waitUntil(lambda: console.api_keys.select_where("name", "doomed"), timeout=API_TIMEOUT_MS)
    console.api_keys.table.setFocus()
    qtbot.keyClick(console.api_keys.table, Qt.Key.Key_Delete)
    box = console.api_keys.dialog
    assert isinstance(box, QMessageBox)
    assert box.isVisible()
    box.reject()

    qtbot.keyClick(window, Qt.Key.Key_5, CTRL)
    qtbot.keyClick(window, Qt.Key.Key_F, CTRL)
    assert QApplication.focusWidget() is console.audit.action

    # The navigation shows where the focus is.
    assert "QListWidget#nav:focus" in QApplication.instance().styleSheet()


def test_8_action_buttons_follow_the_selection_also_after_a_refresh(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    users = console.users
    console.window.show_page("Users")
    qtbot.waitUntil(lambda: users.model.rowCount() > 0, timeout=API_TIMEOUT_MS)
    users.table.selectRow(0)
    assert users.edit_button.isEnabled()
    with qtbot.waitSignal(users.loaded, timeout=API_TIMEOUT_MS):
        users.refresh()
    assert users.selected() is None
    assert not users.edit_button.isEnabled()
    assert not users.toggle_button.isEnabled()


def test_9_tables_sort_count_explain_emptiness_and_search_as_you_type(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    for email in ("zoe@field.example", "bo@field.example"):
        add_user(qtbot, console, email, ["viewer"])
    users = console.users
    console.window.show_page("Users")
    qtbot.waitUntil(lambda: users.model.rowCount() == 3, timeout=API_TIMEOUT_MS)
    assert users.table.isSortingEnabled()
    users.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    shown = [users.table.model().index(row, 0).data() for row in range(3)]
    assert shown == sorted(shown)
    users.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [users.table.model().index(row, 0).data() for row in range(3)] == sorted(shown, reverse=True)
    users.table.selectRow(0)
    assert users.selected()["email"] == shown[-1]  # the row under the cursor, not the model's first
    assert users.count_label.text() == "3 users"

    # Typing searches without Return, once the typing pauses.
    with qtbot.waitSignal(users.loaded, timeout=API_TIMEOUT_MS):
        qtbot.keyClicks(users.search, "nobody")
    qtbot.waitUntil(lambda: users.model.rowCount() == 0, timeout=API_TIMEOUT_MS)
    assert users.empty_label.isVisible()
    assert users.empty_label.text() == "No users match “nobody”"
    assert users.count_label.text() == "0 users"


def test_13_a_dead_backend_is_said_in_words_and_the_dashboard_greys_out(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    process = console.host._process
    assert process is not None
    process.kill()
    qtbot.waitUntil(lambda: console.host.state == HostState.LOST, timeout=API_TIMEOUT_MS)
    assert console.window.status_text.text() == "The backend stopped; restarting…"
    assert not console.dashboard.cards.isEnabled()
    assert "last known" in console.dashboard.updated.text().lower()
    qtbot.waitUntil(lambda: console.host.state == HostState.CONNECTED, timeout=START_TIMEOUT_MS)
    qtbot.waitUntil(console.dashboard.cards.isEnabled, timeout=START_TIMEOUT_MS)
    # "Connected", or "Connected (port 8765 was in use)" when the restart found the port taken (by whatever).
    assert console.window.status_text.text().startswith("Connected")


def test_14_a_brief_notice_says_an_action_worked(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    console.window.show_page("Users")
    console.users.new_user()
    dialog = console.users.dialog
    dialog.set_value("email", "bo@field.example")
    dialog.set_value("display_name", "Bo")
    dialog.set_value("password", "bo has a long passphrase")
    dialog.submit_button.click()
    notice = console.window.notice
    qtbot.waitUntil(notice.isVisible, timeout=API_TIMEOUT_MS)
    assert notice.text() == "User created"
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=API_TIMEOUT_MS)  # it goes away by itself


def test_14_esc_on_the_sign_in_dialog_asks_before_quitting(qtbot: QtBot, console: Console) -> None:
    console.window.show()
    with qtbot.waitSignal(console.sign_in.dialog_shown, timeout=START_TIMEOUT_MS) as shown:
        console.host.start()
    dialog = shown.args[0]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    question = console.sign_in.quit_question
    assert question is not None
    assert question.isVisible()
    assert question.text() == "Quit Outpost?"
    assert question.defaultButton() is question.button(QMessageBox.StandardButton.No)
    assert console.window.isVisible()
    qtbot.keyClick(question, Qt.Key.Key_Return)  # the default: stay
    qtbot.waitUntil(lambda: console.sign_in.dialog is not None and console.sign_in.dialog.isVisible(), timeout=5000)
    assert console.window.isVisible()


def test_15_at_1024x640_the_wide_pages_fit_without_horizontal_scrolling(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    window = console.window
    window.resize(1024, 640)
    add_user(qtbot, console, "a.rather.long.address@inspections.field.example", ["editor", "viewer"])
    for name in ("nightly export of every inspection", "field sync"):
        body = {"name": name, "scopes": ["records:read", "records:write", "system:read", "audit:read"]}
        call(qtbot, console, "POST", "/api/v1/api-keys", body)
    assert window.nav.width() < 200
    for title, page in (("API keys", console.api_keys), ("Audit log", console.audit), ("Users", console.users)):
        window.show_page(title)
        qtbot.waitUntil(lambda page=page: page.model.rowCount() > 1, timeout=API_TIMEOUT_MS)
        qtbot.waitUntil(lambda page=page: page.table.viewport().width() > 0, timeout=5000)
        scrollbar = page.table.horizontalScrollBar()
        qtbot.waitUntil(lambda scrollbar=scrollbar: scrollbar.maximum() == 0, timeout=5000)
    header = console.users.table.horizontalHeader()
    assert header.sectionSize(5) < header.sectionSize(0)  # "Created" does not take all the spare width
    subtitle = console.audit.header.subtitle
    assert subtitle.textFormat() == Qt.TextFormat.RichText
    assert "`" not in subtitle.text()
    assert "<code>outpost audit verify</code>" in subtitle.text()
