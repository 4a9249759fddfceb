"""Reloads keep pages right: the newest load wins, buttons follow the selection, the audit keeps its pages,
the new-key dialog is whole whichever reply comes first, and times are to the second."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.widgets.confirm import destructive_button
from desktop.widgets.form_dialog import FormDialog
from tests.conftest import ADMIN_EMAIL
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console
from tests.desktop.test_key_scopes import shown_scopes

TO_THE_SECOND = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def admin_client(console: Console) -> httpx.Client:
    """The administrator's session over plain HTTP: changes the pages do not hear about."""
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    return httpx.Client(base_url=console.host.url, headers=headers, timeout=10)


class HeldReplies:
    """Replies to chosen GETs kept back (the real request is made) until the test hands them on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, console: Console, method: str) -> None:
        self.held: list[tuple[str, Callable[[Any], None], Any]] = []
        self.paths: set[str] = set()
        self.asked: list[str] = []  # every path asked for, held or not
        real = getattr(console.api, method)

        def holding(path: str, on_success: Callable[[Any], None], on_error: Any = None) -> Any:
            self.asked.append(path)
            if path not in self.paths:
                return real(path, on_success, on_error)
            return real(path, lambda data: self.held.append((path, on_success, data)), on_error)

        monkeypatch.setattr(console.api, method, holding)

    def release(self, index: int) -> None:
        """Hand on the index-th held reply."""
        _path, on_success, data = self.held[index]
        on_success(data)


def test_roles_delete_follows_the_selection(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        assert client.post("/api/v1/roles", json={"name": "auditor", "permissions": []}).status_code == 201
    page = console.roles
    console.window.show_page("Roles")
    qtbot.waitUntil(lambda: "auditor" in [r["name"] for r in page.roles], timeout=API_TIMEOUT_MS)
    assert not page.delete_button.isEnabled()  # nothing selected: nothing to delete
    names = [r["name"] for r in page.roles]
    page.matrix.selectColumn(names.index("auditor"))
    assert page.selected_role()["name"] == "auditor"
    assert page.delete_button.isEnabled()
    page.matrix.clearSelection()
    assert not page.delete_button.isEnabled()
    page.matrix.selectColumn(names.index("auditor"))
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.refresh()  # the reload clears the selection: the button must say so
    assert page.selected_role() is None
    assert not page.delete_button.isEnabled()
    page.matrix.selectColumn(names.index("auditor"))
    page.delete_button.click()
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        destructive_button(page.dialog).click()
    assert "auditor" not in [r["name"] for r in page.roles]
    assert not page.delete_button.isEnabled()


def test_roles_an_older_reload_landing_last_does_not_overwrite_a_newer_one(
    qtbot: QtBot, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in_console(qtbot, console)
    page = console.roles
    qtbot.waitUntil(lambda: bool(page.roles), timeout=API_TIMEOUT_MS)
    held = HeldReplies(monkeypatch, console, "get_every_page")
    held.paths.add("/api/v1/roles")
    page.refresh()  # older: before the editor has a holder
    qtbot.waitUntil(lambda: len(held.held) == 1, timeout=API_TIMEOUT_MS)
    with admin_client(console) as client:
        body = {"email": "ed@field.example", "display_name": "Ed", "password": "ed has a long passphrase"}
        assert client.post("/api/v1/users", json={**body, "roles": ["editor"]}).status_code == 201
    page.refresh()  # newer: the editor has one holder
    qtbot.waitUntil(lambda: len(held.held) == 2, timeout=API_TIMEOUT_MS)
    held.release(1)
    held.release(0)  # the older reply lands last
    editor = next(role for role in page.roles if role["name"] == "editor")
    assert editor["users"] == 1
    assert "1 user" in page.matrix.horizontalHeaderItem([r["name"] for r in page.roles].index("editor")).text()


def test_users_an_older_reload_landing_last_is_dropped_whichever_request_it_was_at(
    qtbot: QtBot, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in_console(qtbot, console)
    page = console.users
    console.window.show_page("Users")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=API_TIMEOUT_MS)
    held = HeldReplies(monkeypatch, console, "get_every_page")
    held.paths.add("/api/v1/roles")  # the users page asks for the roles before the list
    page.refresh()
    qtbot.waitUntil(lambda: len(held.held) == 1, timeout=API_TIMEOUT_MS)
    with admin_client(console) as client:
        body = {"email": "bo@field.example", "display_name": "Bo", "password": "bo has a long passphrase"}
        assert client.post("/api/v1/users", json=body).status_code == 201
    held.paths.clear()
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.refresh()
    assert page.model.rowCount() == 2
    asked = len(held.asked)
    with qtbot.assertNotEmitted(page.loaded):
        held.release(0)  # the older load's first reply: it must not go on to load (and show) a list of its own
    assert held.asked[asked:] == []  # it would ask for the list at once, in this very call
    assert page.model.rowCount() == 2


def test_audit_a_reload_keeps_the_older_pages_the_person_loaded(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        for number in range(6):
            email = f"crew{number}@field.example"
            body = {"email": email, "display_name": "Crew", "password": "a long crew passphrase"}
            assert client.post("/api/v1/users", json=body).status_code == 201
    page = console.audit
    page.page_size = 2
    console.window.show_page("Audit log")
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and page.older_button.isEnabled(), timeout=API_TIMEOUT_MS)
    for shown in (4, 6):
        with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
            page.older_button.click()
        assert page.model.rowCount() == shown
    assert page.count_label.text() == "6 events"
    oldest_shown = page.model.rows[-1]["id"]
    before = {row["id"] for row in page.model.rows}

    # An action reloads the page on show: the six newest events, the new one first, not just two.
    replies: list[Any] = []
    body = {"email": "late@field.example", "display_name": "Late", "password": "a long crew passphrase"}
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.api.request("POST", "/api/v1/users", replies.append, replies.append, body=body)
    qtbot.waitUntil(lambda: page.model.rows[0]["id"] not in before, timeout=API_TIMEOUT_MS)
    assert page.model.rows[0]["action"] == "user.create"
    assert page.model.rowCount() == 6
    assert page.count_label.text() == "6 events"
    assert page.older_button.isEnabled()
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.older_button.click()
    assert page.model.rowCount() == 8
    ids = [row["id"] for row in page.model.rows]
    assert len(ids) == len(set(ids))
    assert oldest_shown in ids

    # Another filter starts from the newest page again.
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.outcome.setCurrentIndex(page.outcome.findData("success"))
    assert page.model.rowCount() == 2


def test_audit_details_panel_leaves_the_table_its_rows_at_1024x640(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    window = console.window
    window.resize(1024, 640)
    page = console.audit
    window.show_page("Audit log")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=API_TIMEOUT_MS)
    qtbot.waitUntil(lambda: page.table.viewport().height() > 0, timeout=5000)
    row_height = page.table.verticalHeader().defaultSectionSize()
    assert page.table.viewport().height() >= 7 * row_height, (page.table.viewport().height(), row_height)
    assert page.table.height() > 2 * page.details.height()
    # The panel sits under a splitter: dragged taller, or collapsed away.
    splitter = page.splitter
    assert splitter.indexOf(page.details) == 1
    assert splitter.isCollapsible(1)
    assert not splitter.isCollapsible(0)
    splitter.setSizes([splitter.height(), 0])
    assert page.details.visibleRegion().isEmpty()
    total = sum(splitter.sizes())
    splitter.setSizes([total // 2, total - total // 2])
    assert page.details.height() >= total // 2 - splitter.handleWidth()


@pytest.mark.parametrize("late", ["/api/v1/permissions", "/api/v1/auth/me"])
def test_the_new_key_dialog_is_whole_whichever_reply_comes_last(
    qtbot: QtBot, console: Console, monkeypatch: pytest.MonkeyPatch, late: str
) -> None:
    signed_in_console(qtbot, console)
    page = console.api_keys
    console.window.show_page("API keys")
    qtbot.waitUntil(lambda: bool(page.catalogue) and bool(page.permissions), timeout=API_TIMEOUT_MS)
    # No earlier load's reply may still land (and fill in what this test holds back).
    qtbot.waitUntil(lambda: not console.api._in_flight, timeout=API_TIMEOUT_MS)
    # As on a first load: nothing known yet.
    page.catalogue, page.permissions = {}, []
    held = HeldReplies(monkeypatch, console, "get")
    held.paths.add(late)
    page.refresh()
    qtbot.waitUntil(lambda: len(held.held) == 1, timeout=API_TIMEOUT_MS)
    page.new_button.click()
    dialog = page.dialog
    assert isinstance(dialog, FormDialog)
    qtbot.waitExposed(dialog)
    dialog.set_value("name", "early bird")
    held.paths.clear()
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        held.release(0)
    shown = shown_scopes(dialog.inputs["scopes"])
    assert len(shown) > 5
    assert shown["*"].startswith("Everything")
    assert shown["system:read"]  # described
    assert all(shown.values())
    assert dialog.values()["name"] == "early bird"
    dialog.set_value("scopes", ["system:read"])
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        dialog.submit_button.click()
    assert [row["scopes"] for row in page.model.rows if row["name"] == "early bird"] == [["system:read"]]


def test_times_are_shown_to_the_second_on_every_page_and_never_cut_off(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    console.window.resize(1024, 640)
    with admin_client(console) as client:
        body = {"name": "nightly export of every inspection", "scopes": ["records:read", "system:read"]}
        assert client.post("/api/v1/api-keys", json=body).status_code == 201
    for title, page, columns in (
        ("Users", console.users, ("Last sign-in", "Created")),
        ("API keys", console.api_keys, ("Created",)),
        ("Audit log", console.audit, ("Time",)),
    ):
        console.window.show_page(title)
        qtbot.waitUntil(lambda page=page: page.model.rowCount() > 0, timeout=API_TIMEOUT_MS)
        titles = [column.title for column in page.model.columns]
        header = page.table.horizontalHeader()
        for column in columns:
            index = titles.index(column)
            shown = page.model.index(0, index).data()
            assert TO_THE_SECOND.match(shown), (title, column, shown)
            # At 1024x640 the other columns give way: a time cut to "2026-11-30 …" reads as no time at all.
            qtbot.waitUntil(
                lambda index=index, header=header, page=page: (
                    header.sectionSize(index) >= page.table.sizeHintForColumn(index)
                ),
                timeout=5000,
            )
    assert any(row["email"] == ADMIN_EMAIL for row in console.users.model.rows)
