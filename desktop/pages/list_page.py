"""The common shape of the list pages: a header with actions, a sortable table, and loading from the API."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QItemSelection, QObject, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.api import ApiClient, ApiError
from desktop.models.rows_model import Column, RowsTableModel
from desktop.pages.newest_load import NewestLoad
from desktop.widgets.column_fit import fit_columns
from desktop.widgets.page_header import PageHeader

SEARCH_DEBOUNCE_MS = 250  # search as one types, once the typing pauses
TABLE_MIN_HEIGHT = 140  # a header and four rows, whatever a panel under the table asks for
PANEL_SHARE = 4  # a panel under the table takes a quarter of their height...
PANEL_HEIGHT = 150  # ...at most this, until the person drags the splitter


class ListPage(QWidget):
    """A table of API objects; subclasses say where they come from and add their actions.

    Hooks the main window's shortcuts look for: `search` (Ctrl+F), `new_button` (Ctrl+N),
    `destructive_button` (Del); `nouns` names the rows in the count and the empty state.
    """

    title = ""
    subtitle = ""
    nouns = ("row", "rows")
    loaded = Signal()  # after each load, successful or not

    def __init__(self, api: ApiClient, columns: list[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.api = api
        self.splitter: QSplitter | None = None  # between the table and a panel under it, if the page has one
        self.panel_sized_by_hand = False
        self.header = PageHeader(self.title, self.subtitle)
        self.model = RowsTableModel(columns)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(RowsTableModel.SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("listTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the API's order until a header is clicked
        self.table.setSortingEnabled(True)
        self.table.viewport().installEventFilter(self)
        self.table.installEventFilter(self)
        # A reset clears the selection without a signal: say so, so the action buttons follow.
        self.proxy.modelReset.connect(self._selection_cleared)
        self.empty_label = QLabel("Loading…")
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.table_or_empty = QStackedWidget()
        self.table_or_empty.addWidget(self.table)
        self.table_or_empty.addWidget(self.empty_label)
        self.table_or_empty.setCurrentWidget(self.empty_label)
        self.count_label = QLabel("")
        self.count_label.setObjectName("rowCount")
        self.footer = QHBoxLayout()  # the row count, and any action on the rows as a whole (load older, say)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(28, 24, 28, 20)
        self.body.setSpacing(12)
        self.body.addWidget(self.header)
        self.refresh_button = self.header.add_button("Refresh")
        self.refresh_button.setToolTip("Load again (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.loads = NewestLoad()
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.refresh)

    def add_table(self, panel: QWidget | None = None) -> None:
        """Place the table (after any filter bar a subclass added), its footer, and search as you type.

        A panel (an item's details, say) goes under the table in a splitter: the person drags it taller or
        collapses it, and the table never gives up its rows to it.
        """
        if panel is None:
            self.body.addWidget(self.table_or_empty, 1)
        else:
            self.splitter = QSplitter(Qt.Orientation.Vertical)
            self.splitter.setObjectName("tableAndPanel")
            self.splitter.addWidget(self.table_or_empty)
            self.splitter.addWidget(panel)
            self.splitter.setCollapsible(0, False)  # the table never goes; the panel may be dragged shut
            self.splitter.setCollapsible(1, True)
            self.splitter.setStretchFactor(0, 1)
            self.splitter.setStretchFactor(1, 0)
            self.splitter.splitterMoved.connect(self._panel_dragged)
            self.splitter.installEventFilter(self)
            self.table_or_empty.setMinimumHeight(TABLE_MIN_HEIGHT)
            self.body.addWidget(self.splitter, 1)
        self.footer.addWidget(self.count_label, 1)
        self.body.addLayout(self.footer)
        search = self.search_box()
        if search is not None:
            search.textChanged.connect(lambda _text: self._search_timer.start())
            search.returnPressed.connect(self._search_timer.stop)  # Return already loads at once

    def search_box(self) -> QLineEdit | None:
        """The page's search field, if it has one."""
        search = getattr(self, "search", None)
        return search if isinstance(search, QLineEdit) else None

    def start(self) -> None:
        """Load once signed in."""
        self.refresh()

    def stop(self) -> None:
        """Forget what was shown (signed out); replies still on their way are dropped."""
        self.loads.begin()
        self.model.set_rows([])
        self.count_label.setText("")
        self.empty_label.setText("Signed out.")
        self.table_or_empty.setCurrentWidget(self.empty_label)

    def path(self) -> str:
        """The API path to list from."""
        raise NotImplementedError

    def refresh(self) -> None:
        """Load the page again; replies to loads begun before this one are dropped, whatever order they land in."""
        self.loads.begin()
        self.load()

    def load(self) -> None:
        """One load's requests (pages that first ask for something else override this, guarding each reply)."""
        self.load_rows()

    def load_rows(self) -> None:
        """Every page of the rows (pages that show one page at a time override this)."""
        self.api.get_every_page(self.path(), self.loads.guard(self._loaded), self.loads.guard(self._failed))

    def _loaded(self, data: dict[str, Any] | None) -> None:
        if not isinstance(data, dict):
            self.header.show_error("The backend sent an empty reply; try Refresh.")
            self.loaded.emit()
            return
        self.header.clear_error()
        self.show_rows(list(data.get("items") or []))
        self.after_load(data)
        self.show_count()
        self.loaded.emit()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Put a load's rows in the table (a page that reloads often updates them in place instead)."""
        self.model.set_rows(rows)

    def after_load(self, data: dict[str, Any]) -> None:
        """A hook for pages that keep more of the reply."""

    def show_count(self) -> None:
        """The row count under the table, and an empty state that says why there is nothing."""
        count = self.model.rowCount()
        singular, plural = self.nouns
        self.count_label.setText(f"{count} {singular if count == 1 else plural}")
        query = self.search_text()
        self.empty_label.setText(f"No {plural} match “{query}”" if query else f"No {plural} yet")
        self.table_or_empty.setCurrentWidget(self.table if count else self.empty_label)
        self.fit_columns()

    def search_text(self) -> str:
        """What the search box holds, trimmed."""
        search = self.search_box()
        return search.text().strip() if search is not None else ""

    def fit_columns(self) -> None:
        """Columns sized to their contents within the table's width."""
        fit_columns(self.table, frozenset(index for index, column in enumerate(self.model.columns) if column.whole))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Fit the columns again when the table's width changes; share the height with a panel under it."""
        if watched is self.table and event.type() == QEvent.Type.FocusIn:
            self._select_on_focus()
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self, self.fit_columns)  # after the resize has settled the scrollbars
        if watched is self.splitter and event.type() == QEvent.Type.Resize and not self.panel_sized_by_hand:
            # A splitter hands out a change of height in proportion: after a shrink the table would lose rows.
            height = self.splitter.height() - self.splitter.handleWidth()
            panel = min(PANEL_HEIGHT, height // PANEL_SHARE)
            self.splitter.setSizes([height - panel, panel])
        return super().eventFilter(watched, event)

    def _select_on_focus(self) -> None:
        """Tabbing into the table selects its current (or first) row: the row actions work at once, with no mouse."""
        if self.selected() is None and self.proxy.rowCount() > 0:
            current = self.table.currentIndex()
            self.table.selectRow(current.row() if current.isValid() else 0)

    def _panel_dragged(self, _position: int, _index: int) -> None:
        self.panel_sized_by_hand = True  # the person's choice stands from now on

    def _failed(self, error: ApiError) -> None:
        self.header.show_error(self.explain(error))
        self.loaded.emit()

    def explain(self, error: ApiError) -> str:
        """What to tell the person about a failed call."""
        if error.status == 403:
            return f"Your account may not do this: {error.detail}"
        return error.detail

    def _selection_cleared(self) -> None:
        self.table.selectionModel().selectionChanged.emit(QItemSelection(), QItemSelection())

    def selected(self) -> dict[str, Any] | None:
        """The selected row's object, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(self.proxy.mapToSource(rows[0]).row()) if rows else None

    def select_where(self, key: str, value: Any) -> bool:
        """Select the first row whose key equals value."""
        for index, row in enumerate(self.model.rows):
            if row.get(key) == value:
                self.table.selectRow(self.proxy.mapFromSource(self.model.index(index, 0)).row())
                return True
        return False
