"""The pieces of the Records and Collections pages that need no backend: values, refusals in words, the filter bar."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QTableView
from pytestqt.qtbot import QtBot

from desktop.app import application
from desktop.models import field_values
from desktop.models.lazy_table_model import LazyColumn, LazyTableModel
from desktop.pages.schema_editor import SchemaEditor, change_words, new_field, violation_words
from desktop.widgets.blit_table import BlitTableView
from desktop.widgets.filter_bar import FilterBar, marked_excerpt


def test_typed_text_becomes_the_field_value() -> None:
    assert field_values.parse({"type": "integer"}, " 42 ") == 42
    assert field_values.parse({"type": "boolean"}, "no") is False
    assert field_values.parse({"type": "json"}, '{"a": [1]}') == {"a": [1]}
    assert field_values.parse({"type": "select", "multiple": True}, "a, b,") == ["a", "b"]
    assert field_values.parse({"type": "date"}, "2026-03-31") == "2026-03-31"
    assert field_values.parse({"type": "text"}, "") is None
    with pytest.raises(ValueError, match="whole number"):
        field_values.parse({"type": "integer"}, "4.5")
    assert field_values.as_text({"type": "json"}, {"a": 1}) == '{"a": 1}'


def test_a_refusal_reads_as_sentences() -> None:
    sent = [new_field("name"), new_field("site")]
    problem = {
        "errors": [{"field": "fields[1].required", "message": "37 records have no value"}],
        "violations": [{"field": "site", "count": 37, "sample_ids": ["a1", "b2", "c3", "d4"]}],
    }
    assert violation_words(problem, sent) == ["37 records have no value for site, e.g. a1, b2, c3 …."]
    bare = {"violations": [{"field": "site", "count": 1, "sample_ids": []}]}
    assert violation_words(bare, sent) == ["1 record would not fit the new definition for site."]
    assert change_words(
        [
            {"kind": "add", "field": "x", "detail": "Add the field x (text)"},
            {"kind": "drop", "field": "y"},
            {"kind": "required", "field": "note", "detail": "becomes required"},
        ]
    ) == ["Add the field x (text)", "drop y", "note: becomes required"]


def test_the_filter_bar_marks_the_position_of_an_error(qtbot: QtBot) -> None:
    application()
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.edit.setText('site = "North" && && visits > 3')
    with qtbot.waitSignal(bar.applied) as applied:
        bar.edit.returnPressed.emit()
    assert applied.args == ['site = "North" && && visits > 3']
    bar.show_error("unexpected '&&' at position 18", 18)
    assert bar.error.isVisible()
    assert bar.edit.selectionStart() == 18
    assert bar.edit.selectedText() == "&"
    assert "background:#c4314b" in bar.error.text()
    assert marked_excerpt("ab", 2).count("&#8248;") == 1  # the text ended where more was expected
    bar.apply()
    assert not bar.error.isVisible()


def test_the_schema_editor_adds_reorders_and_renames_fields(qtbot: QtBot) -> None:
    application()
    existing = {**new_field("site"), "id": "fabcdefghij"}
    sent: list[dict] = []
    editor = SchemaEditor({"name": "visits", "fields": [existing]}, lambda body, done, failed: sent.append(body), None)
    qtbot.addWidget(editor)
    editor.add_field("visits")
    editor.table.item(1, 0).setText("visit_count")
    editor.table.setCurrentCell(1, 0)
    editor.move_field(-1)
    editor.table.item(1, 0).setText("place")  # the renamed site, keeping its id
    editor.table.item(1, 2).setCheckState(editor.table.item(1, 2).checkState().Checked)
    editor.submit()
    fields = sent[0]["fields"]
    assert [f["name"] for f in fields] == ["visit_count", "place"]
    assert "id" not in fields[0]
    assert fields[1]["id"] == "fabcdefghij"
    assert fields[1]["required"] is True
    assert "name" not in sent[0]  # an existing collection is not renamed


def test_the_blit_table_looks_like_a_plain_one_and_repaints_only_what_a_scroll_uncovers(qtbot: QtBot) -> None:
    application()
    model = LazyTableModel()
    model.columns = [LazyColumn("n", "N")]
    model.total = 200
    model._blocks[0] = [{"n": n} for n in range(200)]  # a loaded block, without a source
    views = []
    for kind in (QTableView, BlitTableView):
        view = kind()
        view.setAlternatingRowColors(True)
        view.resize(300, 300)
        view.setModel(model)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        views.append(view)
    plain, blit = (view.grab().toImage() for view in views)
    assert plain == blit  # the same pixels, the area past the last column too

    painted: list[int] = []

    class Spy(QObject):
        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint:
                painted.append(event.rect().height())
            return False

    spy = Spy()
    views[1].viewport().installEventFilter(spy)
    views[1].doItemsLayout()  # the layout Qt had scheduled, done now: it would repaint everything
    QApplication.processEvents()  # and the updates that were pending, painted whole
    painted.clear()
    views[1].verticalScrollBar().setValue(1)  # one row down
    qtbot.waitUntil(lambda: bool(painted), timeout=5_000)
    assert views[1].viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert max(painted) < views[1].viewport().height() // 2  # the uncovered strip, not every row
