"""The common shape of the list pages: a header with actions, a table, and loading from the API."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from desktop.api import ApiClient, ApiError
from desktop.models.rows_model import Column, RowsTableModel
from desktop.widgets.page_header import PageHeader


class ListPage(QWidget):
    """A table of API objects; subclasses say where they come from and add their actions."""

    title = ""
    subtitle = ""
    loaded = Signal()  # after each load, successful or not

    def __init__(self, api: ApiClient, columns: list[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.api = api
        self.header = PageHeader(self.title, self.subtitle)
        self.model = RowsTableModel(columns)
        self.table = QTableView()
        self.table.setObjectName("listTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(28, 24, 28, 20)
        self.body.setSpacing(12)
        self.body.addWidget(self.header)
        self.refresh_button = self.header.add_button("Refresh")
        self.refresh_button.clicked.connect(self.refresh)

    def add_table(self) -> None:
        """Place the table (after any filter bar a subclass added)."""
        self.body.addWidget(self.table, 1)

    def start(self) -> None:
        """Load once signed in."""
        self.refresh()

    def stop(self) -> None:
        """Forget what was shown (signed out)."""
        self.model.set_rows([])

    def path(self) -> str:
        """The API path to list from."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Load the rows again: every page of them (pages that show one page at a time override this)."""
        self.api.get_every_page(self.path(), self._loaded, self._failed)

    def _loaded(self, data: dict[str, Any] | None) -> None:
        if not isinstance(data, dict):
            self.header.show_error("The backend sent an empty reply; try Refresh.")
            self.loaded.emit()
            return
        self.header.clear_error()
        self.model.set_rows(list(data.get("items") or []))
        self.table.resizeColumnsToContents()
        self.after_load(data)
        self.loaded.emit()

    def after_load(self, data: dict[str, Any]) -> None:
        """A hook for pages that keep more of the reply."""

    def _failed(self, error: ApiError) -> None:
        self.header.show_error(self.explain(error))
        self.loaded.emit()

    def explain(self, error: ApiError) -> str:
        """What to tell the person about a failed call."""
        if error.status == 403:
            return f"Your account may not do this: {error.detail}"
        return error.detail

    def selected(self) -> dict[str, Any] | None:
        """The selected row's object, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def select_where(self, key: str, value: Any) -> bool:
        """Select the first row whose key equals value."""
        for index, row in enumerate(self.model.rows):
            if row.get(key) == value:
                self.table.selectRow(index)
                return True
        return False
