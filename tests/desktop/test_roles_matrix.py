"""The roles matrix says which roles are fixed, what each permission allows, and what each role is for."""

from __future__ import annotations

import httpx
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from backend.auth.permissions import CATALOGUE
from desktop.app import Console
from desktop.pages.roles import BUILTIN_TINT
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

EDITOR_MEANS = "Reads and writes records; sees collections"
AUDITOR_MEANS = "Looks at the audit log, nothing else"


def test_built_in_roles_look_fixed_and_every_permission_and_role_is_described(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    role = {"name": "auditor", "description": AUDITOR_MEANS, "permissions": ["audit:read"]}
    assert httpx.post(f"{console.host.url}/api/v1/roles", json=role, headers=headers, timeout=10).status_code == 201
    console.window.show_page("Roles")
    page = console.roles
    page.refresh()
    qtbot.waitUntil(lambda: "auditor" in [r["name"] for r in page.roles], timeout=API_TIMEOUT_MS)
    matrix = page.matrix
    names = [r["name"] for r in page.roles]
    editor, auditor = names.index("editor"), names.index("auditor")

    # Built-in: the title says so, in grey; the boxes are disabled and tinted, and their tooltip says why.
    editor_header = matrix.horizontalHeaderItem(editor)
    assert "built-in, fixed" in editor_header.text()
    assert EDITOR_MEANS in editor_header.toolTip()
    assert editor_header.foreground().color() != matrix.horizontalHeaderItem(auditor).foreground().color()
    row = page.permissions.index("records:write")
    fixed = matrix.item(row, editor)
    assert not fixed.flags() & Qt.ItemFlag.ItemIsEnabled
    assert fixed.background().color().name() == BUILTIN_TINT
    assert "cannot be changed" in fixed.toolTip()
    assert fixed.checkState() == Qt.CheckState.Checked
    qtbot.mouseClick(matrix.viewport(), Qt.MouseButton.LeftButton, pos=matrix.visualItemRect(fixed).center())
    assert fixed.checkState() == Qt.CheckState.Checked
    assert not page.save_button.isEnabled()
    # A custom role's boxes are live and untinted.
    live = matrix.item(row, auditor)
    assert live.flags() & Qt.ItemFlag.ItemIsEnabled
    assert live.background().color().name() != BUILTIN_TINT
    assert "built-in" not in matrix.horizontalHeaderItem(auditor).text()

    # Every permission row carries what it allows, beside its id.
    for number, permission in enumerate(page.permissions):
        text = matrix.verticalHeaderItem(number).text()
        assert text.startswith(permission)
        if permission in CATALOGUE:
            assert CATALOGUE[permission] in text
            assert CATALOGUE[permission] in matrix.verticalHeaderItem(number).toolTip()

    # Role descriptions are shown: for a custom role's cell under the cursor, and for a built-in role's header.
    matrix.setFocus()
    matrix.setCurrentCell(page.permissions.index("audit:read"), auditor)
    assert AUDITOR_MEANS in page.details.text()
    assert CATALOGUE["audit:read"] in page.details.text()
    assert page.details.isVisible()
    header = matrix.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(editor) + header.sectionSize(editor) // 2, header.height() // 2),
    )
    assert EDITOR_MEANS in page.details.text()
    assert "cannot be changed" in page.details.text()


def test_permission_descriptions_are_whole_when_the_window_has_room(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    console.window.resize(1440, 900)
    console.window.show_page("Roles")
    page = console.roles
    qtbot.waitUntil(lambda: bool(page.roles), timeout=API_TIMEOUT_MS)
    header = page.matrix.verticalHeader()
    # At 1440 px the four roles leave room: "Create, edit and disable users, reset passwords, assign roles" whole.
    qtbot.waitUntil(lambda: header.width() >= header.sizeHint().width(), timeout=5000)
    assert page.matrix.horizontalScrollBar().maximum() == 0
    console.window.resize(1024, 640)  # no room: elided (whole in the tooltip), the roles stay in view
    qtbot.waitUntil(lambda: header.width() <= 320, timeout=5000)
