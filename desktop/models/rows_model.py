"""RowsTableModel: a list of API objects shown through column specs (no view logic here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

Index = QModelIndex | QPersistentModelIndex


def local_time(value: Any) -> str:
    """'2026-11-26T07:20:32.44Z' -> '2026-11-26 07:20:32' in local time, to the second; '' for none.

    To the second, not the minute: two sign-ins (or a key made and used) a few seconds apart stay apart.
    """
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Column:
    """A column: its title and how to get its text (and optionally a colour) from a row."""

    title: str
    text: Callable[[dict[str, Any]], str]
    color: Callable[[dict[str, Any]], str | None] | None = None
    sort: Callable[[dict[str, Any]], Any] | None = None  # the sort key, when the text sorts wrongly
    whole: bool = False  # never cut off while other columns can give way (times, states)


class RowsTableModel(QAbstractTableModel):
    """Rows (dicts from the API) in columns; replaced whole or extended by a page of more."""

    SORT_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, columns: list[Column]) -> None:
        super().__init__()
        self.columns = columns
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Show these rows instead."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: list[dict[str, Any]], key: str) -> bool:
        """Show these rows; when they are the same ones (by key, in order) only their cells change, so a view
        keeps its selection, scroll and column widths. True if they were updated in place, False if replaced."""
        if [row.get(key) for row in rows] != [row.get(key) for row in self.rows]:
            self.set_rows(rows)
            return False
        self.rows = list(rows)
        if rows:
            last = self.index(len(rows) - 1, len(self.columns) - 1)
            self.dataChanged.emit(self.index(0, 0), last)
        return True

    def append_rows(self, rows: list[dict[str, Any]]) -> None:
        """Add a further page at the end."""
        if not rows:
            return
        self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def row(self, index: int) -> dict[str, Any]:
        """The object behind a row."""
        return self.rows[index]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(row)  # the tooltip shows what a narrow column cuts off
        if role == self.SORT_ROLE:
            return column.sort(row) if column.sort is not None else column.text(row)
        if role == Qt.ItemDataRole.ForegroundRole and column.color is not None:
            color = column.color(row)
            return QColor(color) if color else None
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None
