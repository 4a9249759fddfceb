"""Records: one collection's rows in a lazy grid: server sort and filter, inline edits, add, delete, the JSON."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient, ApiError
from desktop.models import field_values
from desktop.models.json_decoder import OffThreadJson
from desktop.models.lazy_table_model import LazyColumn, LazyTableModel
from desktop.models.row_source import ApiRowSource, Sort
from desktop.pages.export_dialog import ExportDialog
from desktop.pages.import_dialog import ImportDialog
from desktop.pages.record_edits import CellEdits, records_path
from desktop.widgets.blit_table import BlitTableView
from desktop.widgets.confirm import confirm
from desktop.widgets.field_delegate import FieldDelegate
from desktop.widgets.filter_bar import FilterBar
from desktop.widgets.form_dialog import FormDialog, FormField
from desktop.widgets.page_header import PageHeader

SYSTEM_COLUMNS = ("id", "created_at", "updated_at")
WIDEST_COLUMN = 260  # a long note gives way to an ellipsis (the JSON panel shows all of it)


def form_field(field: dict[str, Any]) -> FormField:
    """The add dialog's input for a collection field."""
    label = field["name"] + (" *" if field.get("required") else "")
    kind = field.get("type")
    if kind == "boolean":
        return FormField(field["name"], label, "choice", options=[("", ""), ("true", "true"), ("false", "false")])
    if kind == "select" and not field.get("multiple"):
        options = [("", ""), *[(o, o) for o in field.get("options") or []]]
        return FormField(field["name"], label, "choice", options=options)
    hints = {  # "e.g.": a bare date under an empty box reads as the value already in it
        "date": "e.g. 2026-03-31",
        "datetime": "e.g. 2026-03-31T14:05:00Z",
        "json": "any JSON value",
        "select": "comma-separated",
    }
    return FormField(field["name"], label, help=hints.get(str(kind), ""))


class RecordsPage(QWidget):
    """A collection's records, any number of them: only the rows in view are fetched."""

    title = "Records"
    subtitle = "The rows of a collection. Double-click a cell to edit it; the filter uses the API's language."
    loaded = Signal()  # after each load, successful or not

    def __init__(self, api: ApiClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.api = api
        self.decoder = OffThreadJson(parent=self)
        self.collections: list[dict[str, Any]] = []
        self.collection: dict[str, Any] | None = None
        self.wanted: str | None = None  # a collection another page asked to open
        self.dialog: QWidget | None = None
        self.header = PageHeader(self.title, self.subtitle)
        self.refresh_button = self.header.add_button("Refresh")
        self.refresh_button.setToolTip("Load again (F5)")
        self.export_button = self.header.add_button("Export…")
        self.export_button.setToolTip("The collection's records (those the filter matches, if you like) to a file")
        self.import_button = self.header.add_button("Import…")
        self.import_button.setToolTip("Records from a CSV or JSON Lines file into the collection")
        self.new_button = self.header.add_button("New record…", "primary")
        self.delete_button = self.header.add_button("Delete…")
        self.destructive_button = self.delete_button  # Del
        self.picker = QComboBox()
        self.picker.setObjectName("collection")
        self.picker.setMinimumWidth(180)
        self.filter_bar = FilterBar()
        self.search = self.filter_bar.edit  # Ctrl+F
        self.model = LazyTableModel()
        self.table = BlitTableView()  # a big table scrolls by moving pixels, not repainting every cell
        self.table.setObjectName("recordsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # a header click calls the model's sort: the server sorts
        self.table.setItemDelegate(FieldDelegate(self.field_of_column, self.model.set_cell_error, self.table))
        self.json_panel = QPlainTextEdit()
        self.json_panel.setObjectName("recordJson")
        self.json_panel.setReadOnly(True)
        self.json_panel.setPlaceholderText("Select a record to see it as JSON.")
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.json_panel)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("rowCount")
        top = QHBoxLayout()
        top.addWidget(QLabel("Collection"))
        top.addWidget(self.picker)
        top.addWidget(self.filter_bar, 1)
        body = QVBoxLayout(self)
        body.setContentsMargins(28, 24, 28, 20)
        body.setSpacing(12)
        body.addWidget(self.header)
        body.addLayout(top)
        body.addWidget(split, 1)
        body.addWidget(self.count_label)

        self.refresh_button.clicked.connect(self.refresh)
        self.new_button.clicked.connect(self.new_record)
        self.export_button.clicked.connect(self.export_records)
        self.import_button.clicked.connect(self.import_records)
        self.delete_button.clicked.connect(self.delete_selected)
        self.picker.activated.connect(lambda _index: self.choose(self.picker.currentData()))
        self.filter_bar.applied.connect(self.model.set_filter)
        self.model.loaded.connect(self._rows_loaded)
        self.model.block_arrived.connect(lambda _block: self._fit_columns_once())
        self._columns_fitted = True
        self.model.failed.connect(self._rows_failed)
        self.edits = CellEdits(self)
        self.model.edit_requested.connect(self.edits.save)
        self.model.dataChanged.connect(lambda *_args: self._show_selected())
        self.model.modelReset.connect(self._selection_cleared)
        self.table.selectionModel().selectionChanged.connect(lambda *_args: self._selection_changed())
        self.table.installEventFilter(self)
        self._selection_changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Tabbing into the grid selects its current (or first) row: Del and the JSON work with no mouse."""
        focus_in = watched is self.table and event.type() == QEvent.Type.FocusIn
        if focus_in and self.model.rowCount() > 0 and not self.table.selectionModel().hasSelection():
            current = self.table.currentIndex()
            self.select_row(current.row() if current.isValid() else 0)
        return super().eventFilter(watched, event)

    # -- loading ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Load once signed in."""
        self.refresh()

    def stop(self) -> None:
        """Forget what was shown (signed out)."""
        self.model.set_source(None, [])
        self.collection = None
        self.count_label.setText("Signed out.")

    def refresh(self) -> None:
        """The collections again, then the chosen one's rows (the view keeps its place)."""
        self.api.get_every_page("/api/v1/collections", self._collections_loaded, self._collections_failed)

    def open_collection(self, name: str) -> None:
        """Show this collection's records at the next load (the page loads when it is shown)."""
        self.wanted = name

    def _collections_loaded(self, data: dict[str, Any]) -> None:
        self.header.clear_error()
        self.collections = list(data.get("items") or [])
        chosen = self.wanted or (self.collection["name"] if self.collection else None)
        self.wanted = None
        self.picker.clear()
        for collection in self.collections:
            self.picker.addItem(collection["name"], collection["name"])
        if not self.collections:
            self.collection = None
            self.model.set_source(None, [])
            self.count_label.setText("No collections yet: create one on the Collections page.")
            self.loaded.emit()
            return
        names = [c["name"] for c in self.collections]
        self.picker.setCurrentIndex(names.index(chosen) if chosen in names else 0)
        self.choose(self.picker.currentData())

    def _collections_failed(self, error: ApiError) -> None:
        self.header.show_error(self.explain(error))
        self.loaded.emit()

    def explain(self, error: ApiError) -> str:
        """What to tell the person about a failed call."""
        if error.status == 403:
            return f"Your account may not do this: {error.detail}"
        return error.detail

    def choose(self, name: str | None) -> None:
        """Show the records of the collection called name (again, if it is the one on show)."""
        collection = next((c for c in self.collections if c["name"] == name), None)
        if collection is None:
            return
        same = self.collection is not None and self.collection["name"] == name
        unchanged = same and self.collection.get("fields") == collection.get("fields")  # type: ignore[union-attr]
        self.collection = collection
        if unchanged:
            self.model.reload()
            return
        fields = list(collection.get("fields") or [])
        columns = [LazyColumn(f["name"], f["name"], editable=True) for f in fields]
        columns += [LazyColumn(name, name) for name in SYSTEM_COLUMNS]
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self._columns_fitted = False
        self.filter_bar.clear_error()
        self.model.set_source(
            ApiRowSource(self.api, collection["name"], self.decoder), columns, (), self.filter_bar.text()
        )
        self.model.exact_reverse = self._exact_reverse

    def _fit_columns_once(self) -> None:
        """Once a collection's first rows are in: each column as wide as its header and values, within reason."""
        if self._columns_fitted or self.model.row(0) is None:
            return
        self._columns_fitted = True  # later on, the widths are the person's (they may have dragged them)
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            wanted = max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
            header.resizeSection(column, min(wanted, WIDEST_COLUMN))

    def _exact_reverse(self, sort: Sort) -> bool:
        # NULLs sort last both ways, so the reversed order mirrors the forward one only on keys that are never NULL.
        required = {f["name"] for f in self.fields() if f.get("required")}
        return all(name in field_values.NOT_NULL_SYSTEM or name in required for name, _ in sort)

    def fields(self) -> list[dict[str, Any]]:
        """The chosen collection's fields."""
        return list((self.collection or {}).get("fields") or [])

    def field_of_column(self, column: int) -> dict[str, Any] | None:
        """The field a column shows (None for system columns)."""
        if not 0 <= column < len(self.model.columns):
            return None
        key = self.model.columns[column].key
        return next((f for f in self.fields() if f["name"] == key), None)

    def _rows_loaded(self) -> None:
        self.header.clear_error()
        total = self.model.rowCount()
        name = self.collection["name"] if self.collection else ""
        matching = " matching the filter" if self.model.filter else ""
        self.count_label.setText(f"{total:,} record{'' if total == 1 else 's'}{matching} in {name}")
        self.loaded.emit()

    def _rows_failed(self, error: ApiError) -> None:
        problem_position = error.problem.get("position")
        filter_error = next((e for e in error.errors if e.get("field") == "filter"), None)
        if error.status == 400 and (filter_error or isinstance(problem_position, int)):
            message = (filter_error or {}).get("message") or error.detail
            self.filter_bar.show_error(message, problem_position if isinstance(problem_position, int) else None)
        else:
            self.header.show_error(self.explain(error))
        self.loaded.emit()

    # -- selection and the JSON panel -------------------------------------------------------------------

    def _selection_cleared(self) -> None:
        self.table.selectionModel().selectionChanged.emit(QItemSelection(), QItemSelection())

    def selected_records(self) -> list[dict[str, Any]]:
        """The selected rows' records that are loaded."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [record for record in (self.model.row(row) for row in rows) if record is not None]

    def _selection_changed(self) -> None:
        self.delete_button.setEnabled(bool(self.selected_records()))
        self.new_button.setEnabled(self.collection is not None)
        self.export_button.setEnabled(self.collection is not None)
        self.import_button.setEnabled(self.collection is not None)
        self._show_selected()

    def _show_selected(self) -> None:
        current = self.table.currentIndex()
        record = self.model.row(current.row()) if current.isValid() else None
        text = json.dumps(record, indent=2, ensure_ascii=False) if record else ""
        if self.json_panel.toPlainText() != text:
            self.json_panel.setPlainText(text)

    # -- add and delete -----------------------------------------------------------------------------------

    def new_record(self) -> None:
        """A form of the collection's fields; the record is created on the server."""
        if self.collection is None:
            return
        fields = self.fields()
        dialog = FormDialog(
            f"New record in {self.collection['name']}",
            "Fields marked * are required; leave a field empty for none.",
            [form_field(f) for f in fields],
            "Create record",
            lambda values: self._create(dialog, fields, values),
            self,
        )
        self.dialog = dialog
        dialog.open()

    def _create(self, dialog: FormDialog, fields: list[dict[str, Any]], values: dict[str, Any]) -> None:
        body: dict[str, Any] = {}
        problems = []
        for field in fields:
            try:
                value = field_values.parse(field, str(values.get(field["name"]) or ""))
            except ValueError as refusal:
                problems.append({"field": field["name"], "message": str(refusal)})
                continue
            if value is not None:
                body[field["name"]] = value
        if problems:
            dialog.show_error(ApiError(422, "Some values are not right.", errors=problems))
            return
        assert self.collection is not None

        def created(_record: Any) -> None:
            dialog.succeed()
            self.model.reload()

        self.api.request("POST", records_path(self.collection["name"]), created, dialog.show_error, body=body)

    def export_records(self) -> ExportDialog | None:
        """The export dialog for the collection on show, its filter (the one the grid shows) offered."""
        if self.collection is None:
            return None
        dialog = ExportDialog(self.api, self.collection["name"], self.model.filter, self)
        self.dialog = dialog
        dialog.open()
        return dialog

    def import_records(self) -> ImportDialog | None:
        """The import dialog for the collection on show; its grid loads again once an import has ended."""
        if self.collection is None:
            return None
        dialog = ImportDialog(self.api, self.collection["name"], self)
        dialog.ended.connect(lambda _job, name=self.collection["name"]: self._imported(name))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _imported(self, name: str) -> None:
        if self.collection is not None and self.collection["name"] == name:
            self.model.reload()  # the view keeps its place; new rows count in the total

    def delete_selected(self) -> QMessageBox | None:
        """Delete the selected records after a confirmation (Cancel is the default), in one batch."""
        records = self.selected_records()
        if not records or self.collection is None:
            return None
        name = self.collection["name"]
        count = len(records)
        noun = "record" if count == 1 else f"{count} records"
        question = f"Delete {noun} from {name}? Deleted records are gone from every list; sync carries the deletion."
        operations = [{"method": "DELETE", "collection": name, "id": str(r["id"])} for r in records]
        self.dialog = confirm(
            self,
            "Delete records",
            question,
            "Delete",
            lambda: self.api.request(
                "POST",
                "/api/v1/batch",
                lambda _d: self.model.reload(),
                lambda error: self.header.show_error(self.explain(error)),
                body={"operations": operations},
            ),
        )
        return self.dialog  # type: ignore[return-value]

    def select_row(self, row: int) -> None:
        """Make row the current, selected one (tests and callers)."""
        self.table.setCurrentIndex(self.model.index(row, 0))
        self.table.selectRow(row)

    def index_of(self, row: int, key: str) -> QModelIndex:
        """The cell of row in the column showing key."""
        column = next(i for i, c in enumerate(self.model.columns) if c.key == key)
        return self.model.index(row, column)
