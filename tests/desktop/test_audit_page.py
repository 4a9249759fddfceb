"""The Audit page: the action filter matches as one types, times to the second, an event in full, a date range."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
from PySide6.QtCore import QDateTime, Qt
from pytestqt.qtbot import QtBot

from desktop.app import Console
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

TO_THE_SECOND = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def test_audit_filters_as_typed_shows_seconds_an_event_in_full_and_a_date_range(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    session = console.api.session
    assert session is not None
    headers = {"Authorization": f"Bearer {session.access_token}"}
    with httpx.Client(base_url=console.host.url, headers=headers, timeout=10) as client:
        for email in ("bo@field.example", "cy@field.example"):
            body = {"email": email, "display_name": "Crew", "password": "a long crew passphrase"}
            assert client.post("/api/v1/users", json=body).status_code == 201
    page = console.audit
    console.window.show_page("Audit log")
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.refresh()

    # "user", typed as a person types it, finds the user events (it used to match nothing without the dot).
    page.action.setFocus()
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        qtbot.keyClicks(page.action, "user")
    qtbot.waitUntil(lambda: len(page.model.rows) == 2, timeout=API_TIMEOUT_MS)
    assert {row["action"] for row in page.model.rows} == {"user.create"}

    # Times to the second.
    time_column = [column.title for column in page.model.columns].index("Time")
    shown = page.model.data(page.model.index(0, time_column), Qt.ItemDataRole.DisplayRole)
    assert TO_THE_SECOND.match(shown), shown

    # The selected event in full, as formatted JSON.
    assert page.details.toPlainText() == ""
    page.table.selectRow(1)
    event = page.model.rows[1]
    text = page.details.toPlainText()
    assert json.loads(text) == event
    assert "\n  " in text  # indented, not one long line
    assert '"target": "user:' in text

    # A date range: sent as RFC 3339 with a zone; a range that ends before everything shows nothing.
    query = parse_qs(urlsplit(page.path()).query)
    assert "since" not in query
    assert "until" not in query
    page.since.setDateTime(QDateTime.currentDateTime().addDays(-1))
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.since_on.click()
    assert len(page.model.rows) == 2
    since = datetime.fromisoformat(parse_qs(urlsplit(page.path()).query)["since"][0])
    assert since.tzinfo is not None
    page.until.setDateTime(QDateTime.currentDateTime().addDays(-1).addSecs(60))
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.until_on.click()
    assert page.model.rows == []
    assert page.header.banner.isHidden()  # the API took both times
