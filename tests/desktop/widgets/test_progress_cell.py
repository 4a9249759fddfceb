"""The progress cell: a bar filled to the value in the row's state colour, the percentage beside it."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from desktop.models.rows_model import Column, RowsTableModel
from desktop.widgets.progress_cell import CELL_WIDTH, MARGIN, TEXT_WIDTH, ProgressCellDelegate

GREEN = "#1e8a3c"
ROW_HEIGHT = 30


def shown(qtbot: QtBot, rows: list[dict]) -> tuple[QTableView, QImage]:
    """A table of progress cells, drawn."""
    model = RowsTableModel([Column("Progress", lambda r: f"{r['p']} %", lambda r: r.get("colour"), lambda r: r["p"])])
    model.set_rows(rows)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegateForColumn(0, ProgressCellDelegate(RowsTableModel.SORT_ROLE, view))
    view.resizeColumnsToContents()
    for row in range(len(rows)):
        view.setRowHeight(row, ROW_HEIGHT)
    view.resize(CELL_WIDTH + 60, ROW_HEIGHT * (len(rows) + 2))
    view.show()
    qtbot.waitExposed(view)
    return view, view.viewport().grab().toImage()


def bar_pixel(view: QTableView, image: QImage, row: int, fraction: float) -> QColor:
    """The colour on the bar's middle line, fraction of the way along it."""
    rect = view.visualRect(view.model().index(row, 0))
    bar_width = rect.width() - 2 * MARGIN - TEXT_WIDTH
    return image.pixelColor(int(rect.left() + MARGIN + bar_width * fraction), rect.center().y())


def test_the_bar_fills_to_the_value_in_the_rows_colour(qtbot: QtBot) -> None:
    view, image = shown(qtbot, [{"p": 100, "colour": GREEN}, {"p": 50, "colour": GREEN}, {"p": 0}])
    assert view.columnWidth(0) >= CELL_WIDTH  # room for the bar and "100 %"
    assert bar_pixel(view, image, 0, 0.9).name() == GREEN
    assert bar_pixel(view, image, 1, 0.25).name() == GREEN
    half_empty = bar_pixel(view, image, 1, 0.8)
    assert half_empty.name() != GREEN
    assert half_empty.lightness() > 200  # the pale track
    assert bar_pixel(view, image, 2, 0.5).name() == half_empty.name()  # 0 %: only the track


def test_values_out_of_range_or_missing_are_held_to_0_to_100(qtbot: QtBot) -> None:
    delegate = ProgressCellDelegate(RowsTableModel.SORT_ROLE)
    model = RowsTableModel([Column("P", lambda r: "", sort=lambda r: r["p"])])
    model.set_rows([{"p": 250}, {"p": -3}, {"p": None}])
    assert [delegate.value(model.index(row, 0)) for row in range(3)] == [100, 0, 0]
