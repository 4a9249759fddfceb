"""A keyboard-only walk of every page: Tab reaches every button with a visible focus; the shortcuts do their job."""

from __future__ import annotations

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.registry import PAGES
from desktop.pages.schema_editor import SchemaEditor
from desktop.widgets.form_dialog import FormDialog
from tests.desktop.test_console_frame import CTRL, active_console
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

MAX_TABS = 80
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
SEARCHES = {"users": "search", "audit": "action", "records": "search"}  # the field Ctrl+F lands in, by page
NEW = {  # pages with a New… action (Ctrl+N), and the dialog it opens
    "users": FormDialog,
    "roles": FormDialog,
    "api_keys": FormDialog,
    "collections": SchemaEditor,
    "records": FormDialog,
}
DELETE = {"users", "roles", "api_keys", "collections", "records", "jobs"}  # destructive action on the selection (Del)


def focused() -> QWidget | None:
    return QApplication.focusWidget()


def press(
    qtbot: QtBot, console: Console, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key where the focus is, as a person presses it."""
    qtbot.keyClick(focused() or console.window, key, modifier)


def back_to_the_window(qtbot: QtBot, console: Console) -> None:
    """As the window manager does when a dialog closes."""
    console.window.activateWindow()
    qtbot.waitUntil(console.window.isActiveWindow, timeout=API_TIMEOUT_MS)


def tab_round(qtbot: QtBot, console: Console) -> list[QWidget]:
    """Tab from the navigation until the focus comes back to it: every widget it stopped at, in order."""
    console.window.nav.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(console.window.nav.hasFocus, timeout=5000)
    stops: list[QWidget] = []
    for _ in range(MAX_TABS):
        press(qtbot, console, Qt.Key.Key_Tab)
        widget = focused()
        assert widget is not None, f"the focus got lost after {[type(w).__name__ for w in stops]}"
        if widget is console.window.nav:
            return stops
        stops.append(widget)
    raise AssertionError(f"Tab never came back to the navigation: {[type(w).__name__ for w in stops[-10:]]}")


def looks(widget: QWidget) -> QImage:
    return widget.grab().toImage()


def action_buttons(console: Console, page: QWidget) -> list[QAbstractButton]:
    """Every button a person could press on the page and in the status bar, now."""
    buttons = [*page.findChildren(QAbstractButton), console.window.password_button, console.window.sign_out_button]
    return [b for b in buttons if b.isVisible() and b.isEnabled() and b.focusPolicy() & Qt.FocusPolicy.TabFocus]


def select_by_keyboard(qtbot: QtBot, console: Console, name: str, page: QWidget) -> None:
    """Select something the page's actions apply to, with the arrow keys."""
    if name == "roles":
        page.matrix.setFocus(Qt.FocusReason.TabFocusReason)
        for _ in range(page.matrix.columnCount() + 1):
            role = page.selected_role()
            if role is not None and not role["builtin"]:
                return
            press(qtbot, console, Qt.Key.Key_Right)
        raise AssertionError("the arrow keys never reached the custom role's column")
    table = getattr(page, "table", None)
    if table is not None:
        table.setFocus(Qt.FocusReason.TabFocusReason)
        selected = page.selected_records() if name == "records" else page.selected()
        assert selected, f"{name}: Tab into the table selected nothing"


def test_keyboard_only_walk_of_every_page(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    with httpx.Client(base_url=console.host.url, headers=headers, timeout=10) as client:
        assert client.post("/api/v1/roles", json={"name": "auditor", "permissions": []}).status_code == 201
        assert client.post("/api/v1/api-keys", json={"name": "walked", "scopes": ["system:read"]}).status_code == 201
        fields = [{"name": "site", "type": "text"}]
        assert client.post("/api/v1/collections", json={"name": "walked", "fields": fields}).status_code == 201
        record = {"site": "north gate"}
        assert client.post("/api/v1/collections/walked/records", json=record).status_code == 201
        assert client.post("/api/v1/backups").status_code == 202  # a backup (and its job) to list
        # The newest job, first in the list, runs long enough to be cancelled (Del) during the walk.
        waiting = {"kind": "wait", "params": {"seconds": 600}}
        assert client.post("/api/v1/jobs", json=waiting).status_code == 202
    window = console.window

    for number, spec in enumerate(PAGES, start=1):
        page = console.pages[spec.name]
        press(qtbot, console, getattr(Qt.Key, f"Key_{number}"), CTRL)
        assert window.stack.currentWidget() is page, spec.name
        assert window.nav.currentRow() == number - 1

        # F5 loads the page again.
        done = getattr(page, "loaded", None) or page.refreshed
        qtbot.waitUntil(lambda page=page: not getattr(page, "_pending", 0), timeout=API_TIMEOUT_MS)
        with qtbot.waitSignal(done, timeout=API_TIMEOUT_MS):
            press(qtbot, console, Qt.Key.Key_F5)
        if hasattr(page, "model"):
            qtbot.waitUntil(lambda page=page: page.model.rowCount() > 0, timeout=API_TIMEOUT_MS)
        if spec.name == "roles":
            qtbot.waitUntil(lambda page=page: "auditor" in [r["name"] for r in page.roles], timeout=API_TIMEOUT_MS)

        # Something selected, so that the actions on a selection are enabled too; then one Tab round.
        select_by_keyboard(qtbot, console, spec.name, page)
        stops = tab_round(qtbot, console)
        missing = [b.text() for b in action_buttons(console, page) if b not in stops]
        assert not missing, f"{spec.name}: Tab never reaches {missing}"
        for view in (w for w in stops if hasattr(w, "tabKeyNavigation")):
            assert not view.tabKeyNavigation(), f"{spec.name}: Tab is caught by {type(view).__name__}"

        # Every stop shows that it has the focus.
        for widget in dict.fromkeys(stops):
            widget.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.waitUntil(widget.hasFocus, timeout=5000)
            with_focus = looks(widget)
            window.nav.setFocus(Qt.FocusReason.TabFocusReason)
            qtbot.waitUntil(lambda widget=widget: not widget.hasFocus(), timeout=5000)
            assert looks(widget) != with_focus, f"{spec.name}: no visible focus on {type(widget).__name__}"

        # Ctrl+F: into the page's search, where it has one.
        window.nav.setFocus(Qt.FocusReason.TabFocusReason)
        press(qtbot, console, Qt.Key.Key_F, CTRL)
        if spec.name in SEARCHES:
            assert focused() is getattr(page, SEARCHES[spec.name]), spec.name
        else:
            assert focused() is window.nav, spec.name  # nothing to find: the focus stays put

        # Ctrl+N opens the page's New… dialog; Esc closes it.
        if spec.name in NEW:
            press(qtbot, console, Qt.Key.Key_N, CTRL)
            dialog = page.dialog
            assert isinstance(dialog, NEW[spec.name]), spec.name
            qtbot.waitUntil(dialog.isVisible, timeout=5000)
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda dialog=dialog: not dialog.isVisible(), timeout=5000)
            back_to_the_window(qtbot, console)

        # Del asks before the destructive action on the selection; Esc answers Cancel.
        if spec.name in DELETE:
            select_by_keyboard(qtbot, console, spec.name, page)
            before = page.dialog
            press(qtbot, console, Qt.Key.Key_Delete)
            box = page.dialog
            assert isinstance(box, QMessageBox), f"{spec.name}: Del asked nothing"
            assert box is not before
            qtbot.waitUntil(box.isVisible, timeout=5000)
            qtbot.keyClick(box, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda box=box: not box.isVisible(), timeout=5000)
            back_to_the_window(qtbot, console)
