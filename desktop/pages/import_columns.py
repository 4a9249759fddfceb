"""The import dialog's two views of the file: where each column goes (a choice per column), and its first rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from desktop.models.import_file import EXPORT_COLUMNS, ID, FilePreview, default_target

IGNORE = "(ignore)"
SAMPLES_SHOWN = 3  # values beside each column: enough to recognise it
SAMPLE_WIDTH = 260  # pixels; longer samples are elided (the tooltip has the first rows' values)
IGNORED_GREY = "#8a97a6"
NO_FILE = "Choose a file: its columns are listed here, each with the field it goes into."
NO_COLUMNS = "No columns were found in the file's first rows."


def target_text(field: dict[str, Any]) -> str:
    """How a field reads in the choice: "score (number)"."""
    return f"{field['name']} ({field.get('type', '')})"


class ColumnMapping(QScrollArea):
    """A row per column of the file: its name, the field it goes into (or ignore), its first values."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("columnMapping")
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the choices take the focus, one by one
        self.combos: dict[str, QComboBox] = {}
        self.grid = QGridLayout()
        self.set_columns(FilePreview(), [])

    def set_columns(
        self,
        preview: FilePreview,
        fields: Sequence[dict[str, Any]],
        keep: Mapping[str, str | None] | None = None,
        empty_text: str = NO_FILE,
    ) -> None:
        """A choice for each column of the file, set as in keep (choices made before, where they still can be)
        or else to the field of the same name (or ignore); empty_text when the file has no columns."""
        self.combos = {}
        keep = keep or {}
        grid = QWidget()
        grid.setObjectName("columnMappingGrid")
        self.grid = QGridLayout(grid)
        self.grid.setContentsMargins(10, 8, 10, 8)
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(6)
        for column, heading in enumerate(("Column in the file", "Goes into", "First values")):
            label = QLabel(heading)
            label.setObjectName("fieldLabel")
            self.grid.addWidget(label, 0, column)
        names = [str(f["name"]) for f in fields]
        for row, column in enumerate(preview.columns, start=1):
            name = QLabel(column or "(no name)")
            name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            combo = QComboBox()
            combo.setObjectName("columnTarget")
            combo.setAccessibleName(f"Field for the column {column}")
            combo.addItem(IGNORE, None)
            combo.addItem("id (updates the record with that id)", ID)
            for field in fields:
                combo.addItem(target_text(field), field["name"])
            kept = combo.findData(keep[column]) if column in keep else -1
            combo.setCurrentIndex(kept if kept >= 0 else max(0, combo.findData(default_target(column, names))))
            combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
            name.setBuddy(combo)
            self.combos[column] = combo
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(combo, row, 1)
            self.grid.addWidget(self._samples(preview, row - 1, column), row, 2)
        if not preview.columns:
            empty = QLabel(empty_text)
            empty.setObjectName("fieldHelp")
            self.grid.addWidget(empty, 1, 0, 1, 3)
        self.grid.setColumnStretch(2, 1)
        self.grid.setRowStretch(max(2, len(preview.columns) + 1), 1)
        self.setWidget(grid)  # the last list goes, with its choices
        previous: QWidget | None = None
        for combo in self.combos.values():
            if previous is not None:
                QWidget.setTabOrder(previous, combo)
            previous = combo

    def _samples(self, preview: FilePreview, index: int, column: str) -> QLabel:
        values = preview.samples(index)
        label = QLabel()
        label.setObjectName("fieldHelp")
        if column in EXPORT_COLUMNS:
            text = "added by exports: ignored"
        else:
            text = " · ".join(values[:SAMPLES_SHOWN]) or "(empty in the first rows)"
        label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, SAMPLE_WIDTH))
        label.setToolTip("\n".join(values))
        return label

    def chosen(self) -> dict[str, str | None]:
        """Each column of the file and the field chosen for it (None: ignored)."""
        return {column: combo.currentData() for column, combo in self.combos.items()}

    def choose(self, column: str, target: str | None) -> None:
        """Send the column into target (a field's name, "id", or None to ignore it)."""
        combo = self.combos[column]
        combo.setCurrentIndex(combo.findData(target))

    def first_choice(self) -> QComboBox | None:
        """The first column's choice (where Tab enters the list)."""
        return next(iter(self.combos.values()), None)


class PreviewTable(QTableWidget):
    """The file's first rows as they are written, each column headed by where it goes; ignored ones in grey."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("importPreview")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.columns: list[str] = []

    def show_rows(self, preview: FilePreview) -> None:
        """The preview's rows, numbered as the backend's report numbers them."""
        self.columns = list(preview.columns)
        self.clear()
        self.setColumnCount(len(self.columns))
        self.setRowCount(len(preview.rows))
        self.setVerticalHeaderLabels([str(number) for number in preview.numbers])
        for row, cells in enumerate(preview.rows):
            for column, text in enumerate(cells[: len(self.columns)]):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(row, column, item)

    def show_targets(self, chosen: dict[str, str | None]) -> None:
        """Head each column "name → field" (or "name (ignored)"), and grey the ignored ones."""
        grey = QBrush(QColor(IGNORED_GREY))
        for index, column in enumerate(self.columns):
            target = chosen.get(column)
            heading = f"{column} → {target}" if target and target != column else column
            self.setHorizontalHeaderItem(index, QTableWidgetItem(heading if target else f"{column} (ignored)"))
            for row in range(self.rowCount()):
                item = self.item(row, index)
                if item is not None:
                    item.setForeground(grey if target is None else QBrush())
        self.resizeColumnsToContents()
        for index in range(self.columnCount()):
            self.setColumnWidth(index, min(self.columnWidth(index), SAMPLE_WIDTH))
