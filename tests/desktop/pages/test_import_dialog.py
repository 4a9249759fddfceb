"""The import dialog against a real backend: a file picked through Qt's open dialog (answered by the test) is
previewed, sent streamed, followed to 100 %; its counts, problems and report are the backend's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop.app import Console
from desktop.pages.import_dialog import ImportDialog
from tests.desktop.pages.imports_setup import GAUGES, ended_job, make_collection, pick_file, write_csv
from tests.desktop.pages.jobs_setup import (
    any_free_port,  # noqa: F401 (a fixture)
    eventually,
    job_in,
    record_count,
    signed_in_with_demo_data,
    submit,
)
from tests.desktop.pages.test_export_dialog import answer_save_dialog
from tests.desktop.test_console_frame import active_console
from tests.desktop.test_destructive_actions import admin_client
from tests.desktop.test_identity_pages import API_TIMEOUT_MS

pytestmark = pytest.mark.usefixtures("any_free_port")

MAX_TABS = 20
LIMIT = 1024 * 1024  # the backend's max_upload_bytes in the test of a file too large


def import_from_records(qtbot: QtBot, console: Console, collection: str) -> ImportDialog:
    """The Records page on the collection, and its import dialog."""
    records = console.records
    records.open_collection(collection)
    with qtbot.waitSignal(records.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Records")
    qtbot.waitUntil(lambda: records.collection is not None and records.collection["name"] == collection)
    dialog = records.import_records()
    assert isinstance(dialog, ImportDialog)
    return dialog


def import_from_collections(qtbot: QtBot, console: Console, collection: str) -> ImportDialog:
    """The Collections page with the collection selected, and its import dialog."""
    page = console.collections
    with qtbot.waitSignal(page.loaded, timeout=API_TIMEOUT_MS):
        console.window.show_page("Collections")
    assert page.select_where("name", collection)
    dialog = page.import_selected()
    assert isinstance(dialog, ImportDialog)
    return dialog


def test_an_exported_collection_imports_into_a_fresh_one_following_the_job_to_100_percent(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in_with_demo_data(qtbot, console)
    export = submit(client, "/api/v1/collections/sites/export", {"format": "csv"})["id"]
    job_in(qtbot, client, export, "succeeded")
    source = tmp_path / "sites.csv"
    source.write_bytes(client.get(f"/api/v1/jobs/{export}/file").content)
    schema = client.get("/api/v1/collections/sites").json()
    fields = [{key: value for key, value in f.items() if key != "id"} for f in schema["fields"]]
    make_collection(client, "sites_copy", fields)
    expected = record_count(client, "sites")
    assert expected > 0

    dialog = import_from_collections(qtbot, console, "sites_copy")
    assert dialog.setup.choose_button.isDefault()  # Return asks for the file while there is none
    pick_file(qtbot, dialog, monkeypatch, source)
    assert dialog.setup.file_format() == "csv"
    chosen = dialog.setup.mapping.chosen()
    assert chosen["id"] == "id"  # the records keep their ids
    assert all(chosen[f["name"]] == f["name"] for f in fields)  # each column named as a field fills it
    assert [chosen[column] for column in ("created_at", "_rev")] == [None, None]  # the export's own: ignored
    assert dialog.setup.mapping_to_send() is None  # the defaults: no mapping is sent
    assert dialog.setup.preview_table.rowCount() == min(10, expected)
    assert dialog.setup.preview_table.item(0, 0).text() != ""
    assert dialog.setup.mode() == "all_or_nothing"
    assert dialog.import_button.isDefault()
    seen: list[int] = []
    dialog.outcome.progress.changed.connect(lambda _job: seen.append(dialog.outcome.progress.bar.value()))

    dialog.import_button.click()
    assert not dialog.import_button.isVisible()  # one import per click
    job = ended_job(qtbot, dialog)
    assert job["state"] == "succeeded"
    assert dialog.outcome.progress.bar.value() == 100
    assert seen[-1] == 100
    assert seen == sorted(seen)  # the bar never went back
    assert record_count(client, "sites_copy") == expected
    assert dialog.outcome.summary.text() == f"{expected} created, 0 updated, no problems ({expected} rows in the file)"
    assert dialog.outcome.error.isHidden()
    assert dialog.outcome.problems.isHidden()
    assert dialog.save_button.isHidden()  # no problems, no report
    page = console.collections  # its list loads again: the new count shows
    qtbot.waitUntil(
        lambda: page.select_where("name", "sites_copy") and page.selected()["record_count"] == expected,
        timeout=API_TIMEOUT_MS,
    )


def test_skipping_invalid_rows_shows_the_jobs_problems_and_saves_its_report(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    active_console(qtbot, console)
    client = admin_client(console)
    make_collection(client, "gauges", GAUGES)
    source = write_csv(
        tmp_path / "gauges.csv",
        "name,reading,checked,colour",
        "North,1,true,red",
        "South,lots,false,blue",  # row 3: not a whole number
        "East,2,yes,",
        ",3,no,",  # row 5: no name
        "West,-4,maybe,",  # row 6: below the minimum, and not a boolean
    )
    dialog = import_from_records(qtbot, console, "gauges")
    pick_file(qtbot, dialog, monkeypatch, source)
    assert dialog.setup.mapping.chosen()["colour"] is None  # no such field
    dialog.setup.mode_buttons["skip_invalid"].click()
    dialog.import_button.click()
    job = ended_job(qtbot, dialog)

    backend = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert backend["state"] == "succeeded"
    result = backend["result"]
    assert (result["created"], result["rows_with_problems"], result["problems"]) == (2, 3, 4)
    assert dialog.outcome.summary.text() == "2 created, 0 updated, 3 rows with problems (5 rows in the file)"
    shown = dialog.outcome.problem_rows()
    assert shown == [(str(p["row"]), p["field"], p["message"]) for p in result["first_problems"]]
    assert sorted((row, field) for row, field, _message in shown) == [
        ("3", "reading"),
        ("5", "name"),
        ("6", "checked"),
        ("6", "reading"),
    ]
    assert dialog.outcome.problems_caption.text() == "The 4 problems, counting the header as row 1:"
    assert dialog.outcome.error.isHidden()  # skipping is not failing
    assert record_count(client, "gauges") == 2
    qtbot.waitUntil(lambda: console.records.count_label.text().startswith("2 records"), timeout=API_TIMEOUT_MS)

    assert dialog.save_button.isVisible()
    assert dialog.save_button.isDefault()  # Return saves the report
    target = tmp_path / "chosen" / "problems.csv"
    target.parent.mkdir()
    offered = answer_save_dialog(monkeypatch, target)
    dialog.save_button.click()
    label = dialog.outcome.file_save.label
    qtbot.waitUntil(lambda: label.text().startswith("Saved"), timeout=API_TIMEOUT_MS)
    assert Path(offered[0]).name == "gauges-import-problems.csv"
    assert target.read_bytes() == client.get(f"/api/v1/jobs/{job['id']}/file").content
    assert target.read_text().splitlines()[0] == "row,field,message"


def test_all_or_nothing_with_a_bad_row_fails_plainly_and_imports_nothing(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    active_console(qtbot, console)
    client = admin_client(console)
    make_collection(client, "gauges", GAUGES)
    assert client.post("/api/v1/collections/gauges/records", json={"name": "Base"}).status_code == 201
    source = write_csv(tmp_path / "gauges.csv", "Gauge,reading", "North,1", "South,lots", "East,2")
    dialog = import_from_collections(qtbot, console, "gauges")
    pick_file(qtbot, dialog, monkeypatch, source)
    dialog.setup.mapping.choose("Gauge", "name")
    assert dialog.setup.mode() == "all_or_nothing"  # the default
    dialog.import_button.click()
    job = ended_job(qtbot, dialog)

    backend = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert backend["state"] == "failed"
    assert "nothing was imported" in backend["error"]
    assert dialog.outcome.error.isVisible()
    assert dialog.outcome.error.text() == f"The import failed: {backend['error']}"
    assert dialog.outcome.summary.text().startswith("1 of the 3 rows in the file has problems.")
    problem = backend["result"]["first_problems"][0]
    assert dialog.outcome.problem_rows() == [("3", "reading", problem["message"])]
    assert dialog.save_button.isVisible()  # a failed import's report can be saved too
    assert record_count(client, "gauges") == 1  # the good rows were not written either

    # Put right, the same file goes again with the same choices.
    write_csv(source, "Gauge,reading", "North,1", "South,3", "East,2")
    dialog.again_button.click()
    assert dialog.setup.mapping.chosen() == {"Gauge": "name", "reading": "reading"}
    assert dialog.setup.preview_table.item(1, 1).text() == "3"  # read afresh
    assert dialog.import_button.hasFocus()
    dialog.import_button.click()
    assert ended_job(qtbot, dialog)["state"] == "succeeded"
    assert dialog.outcome.error.isHidden()
    assert record_count(client, "gauges") == 4


def test_a_column_sent_into_another_field_by_its_choice_is_honoured_and_escape_leaves_the_import_going(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    active_console(qtbot, console)
    client = admin_client(console)
    make_collection(client, "gauges", GAUGES)
    source = write_csv(tmp_path / "gauges.csv", "Gauge name,reading,Note", "North,1,a", "South,2,b")
    dialog = import_from_records(qtbot, console, "gauges")
    sent: list[Any] = []
    real = console.api.import_collection
    monkeypatch.setattr(console.api, "import_collection", lambda *args: (sent.append(args[4]), real(*args))[1])
    qtbot.waitUntil(dialog.isVisible, timeout=API_TIMEOUT_MS)
    dialog.activateWindow()
    pick_file(qtbot, dialog, monkeypatch, source)
    setup = dialog.setup
    assert setup.mapping.chosen() == {"Gauge name": None, "reading": "reading", "Note": None}
    assert setup.mapping_note.text().startswith("No column goes into name (required)")

    # Tab walks from the file to each column's choice, in the file's order, then to the modes and Import.
    setup.choose_button.setFocus()
    qtbot.waitUntil(setup.choose_button.hasFocus, timeout=API_TIMEOUT_MS)
    stops: list[QWidget] = []
    for _ in range(MAX_TABS):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        stops.append(QApplication.focusWidget())
        if stops[-1] is dialog.import_button:
            break
    combos = list(setup.mapping.combos.values())
    assert [stop for stop in stops if stop in combos] == combos
    assert stops.index(combos[-1]) < stops.index(setup.mode_buttons["all_or_nothing"]) < len(stops) - 1

    combo = setup.mapping.combos["Gauge name"]
    combo.setFocus()
    qtbot.keyClicks(combo, "n")  # the keyboard's way through a closed combo box: the first choice so named
    assert combo.currentData() == "name"
    assert setup.mapping_note.isHidden()
    header = setup.preview_table.horizontalHeaderItem(0).text()
    assert header == "Gauge name → name"
    assert setup.preview_table.horizontalHeaderItem(2).text() == "Note (ignored)"
    assert dialog.import_button.isDefault()

    qtbot.keyClick(combo, Qt.Key.Key_Return)  # the default button: Import
    assert sent == [{"Gauge name": "name", "reading": "reading", "id": "id", "checked": "checked"}]
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert "does not stop an import" in dialog.findChild(type(dialog.outcome.summary), "dialogIntro").text()
    eventually(qtbot, lambda: record_count(client, "gauges") == 2)
    names = {r["name"] for r in client.get("/api/v1/collections/gauges/records").json()["items"]}
    assert names == {"North", "South"}


def test_a_file_over_the_backends_limit_is_refused_plainly_and_a_smaller_one_reports_its_sending(
    qtbot: QtBot, console: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTPOST_MAX_UPLOAD_BYTES", str(LIMIT))
    active_console(qtbot, console)
    client = admin_client(console)
    make_collection(client, "gauges", GAUGES)
    note = "x" * 1000
    big = write_csv(tmp_path / "big.csv", "name,reading", *(f"G{i} {note},{i}" for i in range(3 * LIMIT // 1000)))
    dialog = import_from_collections(qtbot, console, "gauges")
    pick_file(qtbot, dialog, monkeypatch, big)
    dialog.import_button.click()
    qtbot.waitUntil(dialog.again_button.isVisible, timeout=API_TIMEOUT_MS)
    assert dialog.outcome.error.text().startswith("The file is larger than the backend accepts")
    assert str(LIMIT) in dialog.outcome.error.text()
    assert dialog.job is None
    assert client.get("/api/v1/jobs", params={"kind": "import"}).json()["items"] == []

    small = write_csv(tmp_path / "small.csv", "name,reading", *(f"G{i} {note},{i}" for i in range(LIMIT // 2000)))
    sent: list[tuple[int, int]] = []
    real = dialog.outcome.sent_so_far
    monkeypatch.setattr(
        dialog.outcome, "sent_so_far", lambda name, done, total: (sent.append((done, total)), real(name, done, total))
    )
    dialog.again_button.click()
    pick_file(qtbot, dialog, monkeypatch, small)
    dialog.import_button.click()
    job = ended_job(qtbot, dialog)
    assert job["state"] == "succeeded"
    assert sent[-1] == (small.stat().st_size, small.stat().st_size)
    assert [done for done, _total in sent] == sorted(done for done, _total in sent)
    assert record_count(client, "gauges") == LIMIT // 2000
