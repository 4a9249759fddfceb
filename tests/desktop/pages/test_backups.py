"""The Backups page against a real backend: Back up now follows its job and adds the backup to the list."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.app import Console
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
    assert not page.restore_button.isEnabled()  # restoring comes with a later change
    assert "next version" in page.restore_button.toolTip()

    page.backup_button.click()
    assert not page.backup_button.isEnabled()  # one backup per click
    qtbot.waitUntil(lambda: len(page.model.rows) == len(before) + 1, timeout=JOB_TIMEOUT_MS)
    assert page.backup_button.isEnabled()
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
