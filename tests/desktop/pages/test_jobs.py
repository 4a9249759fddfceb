"""The Jobs page against a real backend: live progress, cancel (Del, confirmed) and retry, a job in full with
Enter, the file a job made saved where the person picks, and no polling while the page is out of sight."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.job_details import JobDetailsDialog
from desktop.pages.jobs import FAST_POLL_MS, JobsPage
from desktop.widgets.confirm import destructive_button
from tests.desktop.pages.jobs_setup import (
    JOB_TIMEOUT_MS,
    any_free_port,  # noqa: F401 (a fixture, used by name)
    failed_export,
    job_in,
    job_state,
    signed_in_with_demo_data,
    submit,
    wait_job,
)
from tests.desktop.pages.test_export_dialog import answer_save_dialog
from tests.desktop.test_console_frame import active_console
from tests.desktop.test_destructive_actions import admin_client
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("any_free_port")


def open_jobs(qtbot: QtBot, console: Console) -> JobsPage:
    """Show the Jobs page, once its list is in."""
    page = console.jobs
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Jobs")
    return page


def row(page: JobsPage, job_id: str) -> dict | None:
    """The job as the page shows it now, if listed."""
    return next((job for job in page.model.rows if job["id"] == job_id), None)


def test_a_running_job_is_followed_live_cancelled_with_del_and_retried(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    page = open_jobs(qtbot, console)
    assert "Jobs are the work the backend does in the background" in page.empty_label.text()
    assert page.table_or_empty.currentWidget() is page.empty_label
    with admin_client(console) as client:
        job_id = wait_job(client, 120)["id"]
        # No refresh by hand: the page asks by itself and shows the job start and move.
        qtbot.waitUntil(lambda: (row(page, job_id) or {}).get("progress", 0) > 0, timeout=JOB_TIMEOUT_MS)
        assert row(page, job_id)["state"] == "running"
        assert page.poll.interval() == FAST_POLL_MS  # live while something moves
        column = [c.title for c in page.model.columns].index("Tries")
        assert page.model.data(page.model.index(0, column)) == "1 of 2"

        assert page.select_where("id", job_id)
        assert page.cancel_button.isEnabled()
        assert not page.retry_button.isEnabled()
        page.table.setFocus()
        qtbot.keyClick(page.table, Qt.Key.Key_Delete)
        box = page.dialog
        assert isinstance(box, QMessageBox)
        qtbot.waitUntil(box.isVisible)
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)  # Return keeps it running
        assert box.defaultButton().text() == "Keep running"
        destructive_button(box).click()
        qtbot.waitUntil(lambda: (row(page, job_id) or {}).get("state") == "cancelled", timeout=JOB_TIMEOUT_MS)
        assert job_state(client, job_id) == "cancelled"
        qtbot.waitUntil(lambda: page.poll.interval() > FAST_POLL_MS, timeout=API_TIMEOUT_MS)  # nothing moves now

        assert page.selected()["id"] == job_id  # the live updates kept the selection
        assert not page.cancel_button.isEnabled()
        assert page.retry_button.isEnabled()
        page.retry_button.click()
        qtbot.waitUntil(
            lambda: (page.selected() or {}).get("retry_of") == job_id, timeout=API_TIMEOUT_MS
        )  # the new job, selected
        retry = page.selected()
        assert retry["id"] != job_id
        assert retry["title"] == "Wait 120 s"
        assert job_state(client, retry["id"]) in ("queued", "running")
        assert client.post(f"/api/v1/jobs/{retry['id']}/cancel").status_code == 200


def test_enter_shows_a_failed_job_in_full_and_copies_it(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    with admin_client(console) as client:
        failed = failed_export(qtbot, client)
    page = open_jobs(qtbot, console)
    assert page.select_where("id", failed)
    assert page.retry_button.isEnabled()  # a failed job can be run again
    assert not page.save_button.isEnabled()  # it made no file
    assert not page.cancel_button.isEnabled()
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    dialog = page.dialog
    assert isinstance(dialog, JobDetailsDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.error.isVisible()
    assert "no collection doomed" in dialog.error.text()
    text = dialog.text.toPlainText()
    assert "Traceback" in text  # error_detail, for whoever looks after the backend
    assert "NotFound" in text
    assert failed in text
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_the_file_a_job_made_is_saved_where_the_person_picks(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in_with_demo_data(qtbot, console)
    job = submit(client, "/api/v1/collections/sites/export", {"format": "csv"})
    job_in(qtbot, client, job["id"], "succeeded")
    served = client.get(f"/api/v1/jobs/{job['id']}/file")
    assert served.status_code == 200
    page = open_jobs(qtbot, console)
    assert page.select_where("id", job["id"])
    assert page.save_button.isEnabled()
    target = tmp_path / "sites.csv"
    offered = answer_save_dialog(monkeypatch, target)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.file_save.label.text().startswith("Saved"), timeout=API_TIMEOUT_MS)
    assert target.read_bytes() == served.content
    # The name offered is the one the backend gives the download.
    disposition = served.headers["content-disposition"]
    assert Path(offered[0]).name == unquote(disposition.split("filename*=UTF-8''")[1])
    assert page.save_button.isEnabled()  # again, for another copy


def test_polling_stops_while_the_page_is_out_of_sight(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    with admin_client(console) as client:
        job_id = wait_job(client, 120)["id"]
        page = open_jobs(qtbot, console)
        qtbot.waitUntil(lambda: (row(page, job_id) or {}).get("state") == "running", timeout=JOB_TIMEOUT_MS)
        assert page.poll.isActive()
        console.window.show_page("Dashboard")
        assert not page.poll.isActive()
        with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
            page.refresh()  # a reply landing while out of sight does not start the asking again
        assert not page.poll.isActive()
        with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
            console.window.show_page("Jobs")
        assert page.poll.isActive()
        assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200


def test_a_cancel_that_comes_too_late_says_so_until_the_next_action(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    with admin_client(console) as client:
        job_id = wait_job(client, 120)["id"]
        page = open_jobs(qtbot, console)
        qtbot.waitUntil(lambda: (row(page, job_id) or {}).get("state") == "running", timeout=JOB_TIMEOUT_MS)
        assert page.select_where("id", job_id)
        box = page.cancel_selected()
        assert box is not None
        # Someone else cancels it while the question is open.
        assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 200
        job_in(qtbot, client, job_id, "cancelled")
        destructive_button(box).click()
        qtbot.waitUntil(lambda: (row(page, job_id) or {}).get("state") == "cancelled", timeout=JOB_TIMEOUT_MS)
        assert page.header.banner.isVisible()
        assert "nothing to cancel" in page.header.banner.text()
        for _ in range(2):  # the reloads after it keep the reason on show
            with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
                page.refresh()
            assert page.header.banner.isVisible()
        assert page.select_where("id", job_id)
        page.retry_button.click()
        assert page.header.banner.isHidden()  # the next action starts afresh
        qtbot.waitUntil(lambda: (page.selected() or {}).get("retry_of") == job_id, timeout=API_TIMEOUT_MS)
        assert client.post(f"/api/v1/jobs/{page.selected()['id']}/cancel").status_code == 200


def test_the_kind_filter_shows_only_jobs_of_that_kind(qtbot: QtBot, console: Console) -> None:
    active_console(qtbot, console)
    with admin_client(console) as client:
        backup = submit(client, "/api/v1/backups", None)
        job_in(qtbot, client, backup["id"], "succeeded")
        waited = wait_job(client, 0.1)
        job_in(qtbot, client, waited["id"], "succeeded")
    page = open_jobs(qtbot, console)
    assert {job["kind"] for job in page.model.rows} >= {"backup", "wait"}
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.kind_filter.setCurrentIndex(page.kind_filter.findData("backup"))
    assert [job["id"] for job in page.model.rows] == [backup["id"]]
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        page.kind_filter.setCurrentIndex(page.kind_filter.findData("export"))
    assert page.model.rows == []
    assert page.empty_label.text() == "No exports."
