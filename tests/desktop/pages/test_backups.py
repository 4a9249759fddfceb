"""The Backups page against a real backend: Back up now follows its job and adds the backup; Restore… restores one."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.widgets.confirm import destructive_button
from tests.desktop.pages.jobs_setup import (
    JOB_TIMEOUT_MS,
    any_free_port,  # noqa: F401 (a fixture)
)
from tests.desktop.test_console_frame import active_console
from tests.desktop.test_destructive_actions import admin_client
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("any_free_port")


def test_back_up_now_adds_a_backup_row(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    page = console.backups
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Backups")
    before = {backup["name"] for backup in page.model.rows}
    if not before:
        assert "No backups yet" in page.empty_label.text()
        assert page.table_or_empty.currentWidget() is page.empty_label
    assert not page.restore_button.isEnabled()  # nothing selected

    page.backup_button.click()
    assert not page.backup_button.isEnabled()  # one backup per click
    # Both: a load under way as the copy lands may list it a moment before the job is seen to end.
    qtbot.waitUntil(
        lambda: len(page.model.rows) == len(before) + 1 and page.backup_button.isEnabled(), timeout=JOB_TIMEOUT_MS
    )
    assert page.progress.isHidden()
    assert page.header.banner.isHidden()
    new = page.selected()
    assert new is not None  # the backup just taken, selected
    assert new["name"] not in before
    assert page.table_or_empty.currentWidget() is page.table
    shown = [page.model.data(page.model.index(0, column)) for column in range(page.model.columnCount())]
    assert shown[1] == "Backup"
    assert shown[2].endswith(("KB", "MB"))
    with admin_client(console) as client:
        listed = client.get("/api/v1/backups").json()
        assert new["name"] in {backup["name"] for backup in listed}
        job = client.get("/api/v1/jobs", params={"kind": "backup"}).json()["items"][0]
        assert job["state"] == "succeeded"
        assert job["result"]["file"] == new["name"]


def test_restore_puts_the_backup_back_and_keeps_the_database_it_replaced(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    page = console.backups
    with admin_client(console) as client:
        fields = [{"name": "label", "type": "text"}]
        assert client.post("/api/v1/collections", json={"name": "notes", "fields": fields}).status_code == 201
        assert client.post("/api/v1/collections/notes/records", json={"label": "kept"}).status_code == 201
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Backups")
    page.backup_button.click()
    qtbot.waitUntil(lambda: page.selected() is not None and page.backup_button.isEnabled(), timeout=JOB_TIMEOUT_MS)
    backup = page.selected()
    assert backup is not None
    assert page.restore_button.isEnabled()
    with admin_client(console) as client:
        assert client.post("/api/v1/collections/notes/records", json={"label": "later"}).status_code == 201

    box = page.restore_selected()
    assert box is not None
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)  # Return never restores by accident
    assert backup["name"] in box.text()
    assert "kept as a backup" in box.text()
    destructive_button(box).click()
    assert not page.restore_button.isEnabled()  # one restore at a time
    assert "Restoring" in page.restore_status.text()
    qtbot.waitUntil(lambda: page.restoring is None, timeout=JOB_TIMEOUT_MS)
    assert page.header.banner.isHidden(), page.header.banner.text()
    assert page.restore_status.text().startswith(f"Restored “{backup['name']}”")
    qtbot.waitUntil(lambda: any(row.get("label") == "pre-restore" for row in page.model.rows), timeout=API_TIMEOUT_MS)
    with admin_client(console) as client:
        labels = [r["label"] for r in client.get("/api/v1/collections/notes/records").json()["items"]]
    assert labels == ["kept"]  # the record written after the backup is set aside, in the pre-restore copy


def test_the_schedule_is_shown_and_saved_for_the_next_start(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    page = console.backups
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Backups")
    schedule = page.schedule
    qtbot.waitUntil(schedule.isVisible, timeout=API_TIMEOUT_MS)
    # The tests' backends run with OUTPOST_BACKUP_INTERVAL_HOURS=0: the page says so, and where it comes from.
    assert schedule.text.text().startswith("No scheduled backups")
    assert "environment or command line" in schedule.text.text()
    dialog = schedule.edit()
    assert dialog is not None
    dialog.set_value("backup_keep", "20")
    with qtbot.waitSignal(schedule.changed, timeout=API_TIMEOUT_MS):
        dialog.submit_button.click()
    assert "From the backend's next start: never, the newest 20 kept." in schedule.text.text()
    with admin_client(console) as client:
        saved = {item["name"]: item for item in client.get("/api/v1/settings").json()["items"]}
    assert saved["backup_keep"]["saved"] in (20, "20")
