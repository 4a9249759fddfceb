"""Records and Collections pages against a real backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.collections import CollectionsPage
from desktop.widgets.confirm import destructive_button
from tests.desktop.test_destructive_actions import admin_client
from tests.desktop.test_identity_pages import API_TIMEOUT_MS, signed_in_console

FIELDS = [
    {"name": "site", "type": "text", "required": True, "constraints": {"max_length": 12}},
    {"name": "visits", "type": "integer"},
    {"name": "note", "type": "text"},
]
ROWS = 60


@contextmanager
def seeded(qtbot: QtBot, console: Console) -> Iterator[httpx.Client]:
    """A signed-in console and an 'inspections' collection of ROWS records, seeded over plain HTTP."""
    signed_in_console(qtbot, console)
    with admin_client(console) as client:
        created = client.post("/api/v1/collections", json={"name": "inspections", "fields": FIELDS})
        assert created.status_code == 201, created.text
        operations = [
            {"method": "POST", "collection": "inspections", "body": {"site": f"site {i:02d}", "visits": i}}
            for i in range(ROWS)
        ]
        batch = client.post("/api/v1/batch", json={"operations": operations})
        assert batch.status_code == 200, batch.text
        yield client


def open_records(qtbot: QtBot, console: Console) -> None:
    page = console.records
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Records")
    qtbot.waitUntil(lambda: page.model.rowCount() == ROWS, timeout=API_TIMEOUT_MS)
    # The total (its own count request) can land before the first rows, and a load begun before the
    # seeding can still announce itself: the label says the total once the rows it counts are in.
    qtbot.waitUntil(lambda: page.count_label.text().startswith(f"{ROWS} records"), timeout=API_TIMEOUT_MS)


def open_collections(qtbot: QtBot, console: Console) -> CollectionsPage:
    """Show the Collections page, once its list is in."""
    page = console.collections
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Collections")
    return page


def test_records_open_filter_sort_and_show_the_total(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console):
        open_records(qtbot, console)
        page = console.records
        assert page.count_label.text().startswith(f"{ROWS} records")
        qtbot.waitUntil(lambda: page.model.row(0) is not None, timeout=API_TIMEOUT_MS)
        column = [c.key for c in page.model.columns].index("visits")
        with qtbot.waitSignal(page.model.loaded, timeout=API_TIMEOUT_MS):
            page.table.sortByColumn(column, page.table.horizontalHeader().sortIndicatorOrder().DescendingOrder)
        qtbot.waitUntil(lambda: page.model.row(0) is not None, timeout=API_TIMEOUT_MS)
        assert page.model.row(0)["visits"] == ROWS - 1
        page.filter_bar.edit.setText("visits < 10")
        with qtbot.waitSignal(page.model.loaded, timeout=API_TIMEOUT_MS):
            page.filter_bar.apply()
        assert page.model.rowCount() == 10
        page.filter_bar.edit.setText("visits < < 10")
        with qtbot.waitSignal(page.model.failed, timeout=API_TIMEOUT_MS):
            page.filter_bar.apply()
        assert page.filter_bar.error.isVisible()
        assert page.filter_bar.error_position is not None


def test_a_cell_edit_saves_shows_its_error_and_resolves_a_conflict(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console) as client:
        open_records(qtbot, console)
        page = console.records
        qtbot.waitUntil(lambda: page.model.row(0) is not None, timeout=API_TIMEOUT_MS)
        record = page.model.row(0)
        page.model.setData(page.index_of(0, "note"), "checked")
        qtbot.waitUntil(lambda: page.model.row(0)["note"] == "checked", timeout=API_TIMEOUT_MS)

        page.model.setData(page.index_of(0, "site"), "a name far too long for twelve")
        qtbot.waitUntil(lambda: page.model.cell_error(0, "site") is not None, timeout=API_TIMEOUT_MS)

        path = f"/api/v1/collections/inspections/records/{record['id']}"
        assert client.patch(path, json={"note": "changed elsewhere"}).status_code == 200
        page.model.setData(page.index_of(0, "note"), "mine")
        qtbot.waitUntil(
            lambda: isinstance(page.dialog, QMessageBox) and page.dialog.isVisible(), timeout=API_TIMEOUT_MS
        )
        overwrite = next(b for b in page.dialog.findChildren(QPushButton) if b.text() == "Overwrite")
        overwrite.click()
        qtbot.waitUntil(lambda: page.model.row(0)["note"] == "mine", timeout=API_TIMEOUT_MS)
        assert client.get(path).json()["note"] == "mine"


def test_deleting_records_asks_first(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console) as client:
        open_records(qtbot, console)
        page = console.records
        qtbot.waitUntil(lambda: page.model.row(1) is not None, timeout=API_TIMEOUT_MS)
        page.table.selectRow(0)
        box = page.delete_selected()
        assert box is not None
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
        with qtbot.waitSignal(page.model.loaded, timeout=API_TIMEOUT_MS):
            destructive_button(box).click()
        assert page.model.rowCount() == ROWS - 1
        assert client.get("/api/v1/collections/inspections/records?count=true").json()["total"] == ROWS - 1


def test_collections_list_counts_and_refuses_in_plain_words(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console):
        page = open_collections(qtbot, console)
        assert page.select_where("name", "inspections")
        assert page.selected()["record_count"] == ROWS
        editor = page.edit_schema()
        assert editor is not None
        note = [f["name"] for f in editor.fields].index("note")
        editor.table.item(note, 2).setCheckState(editor.table.item(note, 2).checkState().Checked)  # required
        editor.preview()
        qtbot.waitUntil(lambda: "refuses" in editor.preview_text.toPlainText(), timeout=API_TIMEOUT_MS)
        assert "for note" in editor.preview_text.toPlainText()
        editor.submit()
        qtbot.waitUntil(lambda: editor.error.isVisible(), timeout=API_TIMEOUT_MS)
        assert "e.g." in editor.preview_text.toPlainText()


def test_a_conflict_resolved_by_reload_shows_the_other_change(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console) as client:
        open_records(qtbot, console)
        page = console.records
        qtbot.waitUntil(lambda: page.model.row(0) is not None, timeout=API_TIMEOUT_MS)
        path = f"/api/v1/collections/inspections/records/{page.model.row(0)['id']}"
        assert client.patch(path, json={"note": "changed elsewhere"}).status_code == 200
        page.model.setData(page.index_of(0, "note"), "mine")
        qtbot.waitUntil(
            lambda: isinstance(page.dialog, QMessageBox) and page.dialog.isVisible(), timeout=API_TIMEOUT_MS
        )
        reload = next(b for b in page.dialog.findChildren(QPushButton) if b.text() == "Reload")
        reload.click()
        qtbot.waitUntil(lambda: page.model.row(0)["note"] == "changed elsewhere", timeout=API_TIMEOUT_MS)
        assert client.get(path).json()["note"] == "changed elsewhere"


def test_open_records_of_the_selected_collection(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console) as client:
        assert client.post("/api/v1/collections", json={"name": "sites", "fields": FIELDS[:1]}).status_code == 201
        page = open_collections(qtbot, console)
        assert not page.records_button.isEnabled()  # nothing selected yet
        assert page.select_where("name", "sites")  # not the first: the Records page would show that one anyway
        with qtbot.waitSignal(console.records.loaded, timeout=API_TIMEOUT_MS):
            page.records_button.click()
        assert console.window.current_page() is console.records
        assert console.records.collection is not None
        assert console.records.collection["name"] == "sites"
        assert console.records.picker.currentText() == "sites"


def test_the_name_of_an_existing_collection_is_read_only(qtbot: QtBot, console: Console) -> None:
    with seeded(qtbot, console):
        page = open_collections(qtbot, console)
        assert page.select_where("name", "inspections")
        editor = page.edit_schema()
        assert editor is not None
        assert editor.name.isReadOnly()
        assert "cannot be renamed" in editor.name.toolTip()
        editor.reject()
        creating = page.new_collection()
        assert not creating.name.isReadOnly()
        creating.reject()
        assert console.records.filter_bar.edit.placeholderText() == 'e.g. status = "open" && score > 50'


def test_demo_data_from_an_empty_instance(qtbot: QtBot, console: Console) -> None:
    signed_in_console(qtbot, console)
    page = open_collections(qtbot, console)
    assert page.model.rowCount() == 0
    assert page.demo_button.isVisible()
    assert "demo data" in page.empty_label.text()
    page.demo_scale = 0.01  # 104 records, not 10 400
    page.demo_button.click()
    assert not page.demo_button.isEnabled()  # busy until the run ends
    assert page.demo_button.text() == "Creating demo data…"
    qtbot.waitUntil(lambda: page.model.rowCount() == 3 and not page.demo_running, timeout=60_000)
    assert not page.demo_button.isVisible()
    assert page.select_where("name", "inspections")
    assert page.selected()["record_count"] == 80
