"""The export dialog against a real backend with demo data: it follows the job to 100 %, saves the file the
person picks (Qt's save dialog answered by the test), and shows a refused filter under the filter."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.export_dialog import ExportDialog
from tests.desktop.pages.jobs_setup import (
    JOB_TIMEOUT_MS,
    any_free_port,  # noqa: F401 (a fixture)
    record_count,
    signed_in_with_demo_data,
)
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("any_free_port")

PASSED = 'status = "passed"'


def answer_save_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """Qt's save dialog answers path at once; the list gets the name each call offered."""
    offered: list[str] = []

    def pick(_parent: QWidget, _title: str, proposed: str, _filter: str) -> tuple[str, str]:
        offered.append(proposed)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(pick))
    return offered


def open_records_filtered(qtbot: QtBot, console: Console, filter_text: str) -> None:
    """The Records page on the demo inspections, the grid filtered."""
    records = console.records
    records.open_collection("inspections")
    with qtbot.waitSignal(records.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Records")
    qtbot.waitUntil(lambda: records.collection is not None and records.collection["name"] == "inspections")
    records.filter_bar.edit.setText(filter_text)
    with qtbot.waitSignal(records.model.loaded, timeout=API_TIMEOUT_MS):
        records.filter_bar.apply()


def test_an_export_follows_its_job_to_100_percent_and_saves_the_filtered_rows(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in_with_demo_data(qtbot, console)
    expected = record_count(client, "inspections", PASSED)
    assert 0 < expected < record_count(client, "inspections")  # the filter matters
    open_records_filtered(qtbot, console, PASSED)

    dialog = console.records.export_records()
    assert isinstance(dialog, ExportDialog)
    assert dialog.use_filter.isChecked()  # prefilled from the grid's filter
    assert dialog.filter.text() == PASSED
    assert dialog.file_format() == "csv"
    seen: list[int] = []
    dialog.progress.changed.connect(lambda _job: seen.append(dialog.progress.bar.value()))

    dialog.export_button.click()
    assert not dialog.export_button.isEnabled()  # one export per click
    qtbot.waitUntil(dialog.save_button.isVisible, timeout=JOB_TIMEOUT_MS)
    assert dialog.progress.bar.value() == 100
    assert seen[-1] == 100
    assert seen == sorted(seen)  # the bar never went back
    assert f"{expected} rows" in dialog.progress.message.text()
    assert dialog.save_button.isDefault()  # Return saves

    target = tmp_path / "chosen" / "passed.csv"
    target.parent.mkdir()
    offered = answer_save_dialog(monkeypatch, target)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.file_save.label.text().startswith("Saved"), timeout=API_TIMEOUT_MS)
    assert Path(offered[0]).name.startswith("inspections-")
    assert Path(offered[0]).suffix == ".csv"
    with target.open(newline="", encoding="utf-8") as saved:
        rows = list(csv.DictReader(saved))
    assert len(rows) == expected
    assert {row["status"] for row in rows} == {"passed"}
    assert str(target) in dialog.file_save.label.text()
    assert list(target.parent.iterdir()) == [target]  # written whole, no temporary file left beside it


def test_a_refused_filter_shows_under_it_and_an_unfiltered_export_saves_every_record(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in_with_demo_data(qtbot, console)
    page = console.collections
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Collections")
    assert page.select_where("name", "inspections")
    dialog = page.export_selected()
    assert isinstance(dialog, ExportDialog)
    assert not dialog.use_filter.isChecked()  # from the Collections page: every record, unless asked
    assert not dialog.filter.isEnabled()

    dialog.use_filter.setChecked(True)
    dialog.filter.setText("score >")
    dialog.export()
    qtbot.waitUntil(dialog.filter_error.isVisible, timeout=API_TIMEOUT_MS)
    assert "expected a value" in dialog.filter_error.text()
    assert dialog.general_error.isHidden()
    assert dialog.export_button.isEnabled()  # the form is back for another try
    assert dialog.filter.isEnabled()
    assert dialog.progress.isHidden()
    assert client.get("/api/v1/jobs", params={"kind": "export"}).json()["items"] == []  # no job was made

    dialog.use_filter.setChecked(False)
    dialog.jsonl.setChecked(True)
    dialog.export()
    assert dialog.filter_error.isHidden()
    qtbot.waitUntil(dialog.save_button.isVisible, timeout=JOB_TIMEOUT_MS)
    target = tmp_path / "all.jsonl"
    offered = answer_save_dialog(monkeypatch, target)
    dialog.save_as()
    qtbot.waitUntil(lambda: dialog.file_save.label.text().startswith("Saved"), timeout=API_TIMEOUT_MS)
    assert offered[0].endswith(".jsonl")
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == record_count(client, "inspections")
    assert all("status" in json.loads(line) for line in lines)
