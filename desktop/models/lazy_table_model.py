"""LazyTableModel: a table of any size that holds only the blocks of rows near the view (Anki's browser model)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from desktop.api import ApiError
from desktop.models.row_source import FetchRequest, Page, RowSource, Sort, sort_param

Index = QModelIndex | QPersistentModelIndex

PLACEHOLDER = "…"
PLACEHOLDER_COLOR = "#9aa5b1"
ERROR_BACKGROUND = "#fde7e9"
BLOCK_SIZE = 200
MAX_BLOCKS = 40  # 8 000 rows held at most, whatever the table's size
RECENT_BLOCKS = 3  # the blocks of the last paint: a view shows a few dozen rows, so at most two or three blocks
PREFETCH = 1  # blocks fetched beyond each side of the view, so a slow scroll finds rows already there
DEBOUNCE_MS = 30  # fetch once a scroll pauses, not for every block it sweeps past
# Roles as plain ints: data() compares them a thousand times a frame, and an int compares fastest.
Role = Qt.ItemDataRole
DISPLAY, EDIT, TOOLTIP = int(Role.DisplayRole), int(Role.EditRole), int(Role.ToolTipRole)
FOREGROUND, BACKGROUND = int(Role.ForegroundRole), int(Role.BackgroundRole)
ANSWERED_ROLES = frozenset((DISPLAY, EDIT, TOOLTIP, FOREGROUND, BACKGROUND))


def plain_text(value: Any) -> str:
    """A cell's text: '' for none, the value as written otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True)
class LazyColumn:
    """A column: the row's key, its title, how its value reads, and whether a cell may be edited."""

    key: str
    title: str
    text: Callable[[Any], str] = plain_text
    editable: bool = False


@dataclass(frozen=True)
class _Plan:
    """How one block is fetched: the request, and whether its rows come back mirrored (fetched from the end)."""

    request: FetchRequest
    reversed: bool


class LazyTableModel(QAbstractTableModel):
    """Knows the total; keeps a bounded cache of blocks; shows placeholders until a block arrives.

    Blocks are asked for by data() (so only what a view paints is fetched), after a short debounce; a
    block follows its predecessor's next_cursor when known, jumps by offset otherwise, and one near the
    end is fetched with the sort reversed, so the last page is one request. A reload (sort, filter,
    F5) bumps a generation: replies to an older one are dropped. The total comes by its own count request
    beside the first block's: the first rows show before a slow count of a big table is in.
    """

    loaded = Signal()  # a (re)load has its total and its first block
    failed = Signal(object)  # ApiError of a fetch of the current generation
    block_arrived = Signal(int)
    edit_requested = Signal(int, str, object)  # row, column key, new value: the page sends it

    def __init__(
        self,
        source: RowSource | None = None,
        columns: list[LazyColumn] | None = None,
        *,
        block_size: int = BLOCK_SIZE,
        max_blocks: int = MAX_BLOCKS,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__()
        self.source = source
        self.columns = list(columns or [])
        self.block_size = block_size
        self.max_blocks = max(max_blocks, RECENT_BLOCKS + 2 * PREFETCH)
        self.sort_keys: Sort = ()
        self.filter = ""
        # Whether the reversed sort is the exact mirror of the forward one (NULLs sort last both ways, so a
        # nullable sort key is not); when it is not, blocks near the end are fetched by offset instead.
        self.exact_reverse: Callable[[Sort], bool] = lambda _sort: True
        self.generation = 0
        self.total: int | None = None
        self.stale_replies = 0  # replies dropped because a reload came after they were asked for
        self.requests: list[FetchRequest] = []  # every request sent, for tests and the bench
        self._blocks: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()  # least recently shown first
        self._pending: set[int] = set()
        self._forward: dict[int, str] = {}  # block -> cursor that starts it
        self._backward: dict[int, str] = {}  # block -> cursor that starts its reversed fetch (from its last row)
        self._asked: OrderedDict[int, None] = OrderedDict()  # blocks painted since the last fetch, latest last
        self._chained: dict[int, int] = {}  # block -> the pending block whose reply brings its cursor
        self._counted = False  # the total of this generation is known (not just the first block's length)
        self._announced = False  # loaded was emitted for this generation
        self._reported = False  # failed was emitted for this generation (the count and a block fail alike)
        self._cell_errors: dict[tuple[str, str], str] = {}  # (record id, column key) -> message
        self._placeholder_color = QColor(PLACEHOLDER_COLOR)  # made once, not per painted cell
        self._error_background = QColor(ERROR_BACKGROUND)
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._fetch_wanted)

    # -- configuration -------------------------------------------------------------------------------

    def set_source(
        self, source: RowSource | None, columns: list[LazyColumn], sort: Sort = (), filter: str = ""
    ) -> None:
        """Show another source (another collection) from its start."""
        self.beginResetModel()
        self.source = source
        self.columns = list(columns)
        self.sort_keys = sort
        self.filter = filter
        self.total = None
        self._forget()
        self.endResetModel()
        self.reload()

    def set_sort(self, sort: Sort) -> None:
        """Order the rows on the server by these keys and load again."""
        self.sort_keys = sort
        self.reload()

    def set_filter(self, text: str) -> None:
        """Show only the rows the filter matches and load again."""
        self.filter = text
        self.reload()

    def reload(self) -> None:
        """Forget every block and fetch again; replies to earlier fetches are dropped when they land."""
        self._forget()
        if self.source is None:
            return
        # Counting a million rows costs the server far more than a page: the count goes alone, beside the
        # first block, so the first rows show as soon as they come and the scrollbar grows when the total does.
        if self.total is None:
            self._request(0)
            self._request_count()
            return
        self._request_count()
        self.dataChanged.emit(self.index(0, 0), self.index(max(self.rowCount() - 1, 0), max(self.columnCount() - 1, 0)))
        self._want(0)

    def _forget(self) -> None:
        self.generation += 1
        self._counted = self._announced = self._reported = False
        self._blocks.clear()
        self._pending.clear()
        self._forward.clear()
        self._backward.clear()
        self._asked.clear()
        self._chained.clear()
        self._cell_errors.clear()
        self._timer.stop()

    # -- what the view sees --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() or self.total is None else self.total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() else len(self.columns)

    def row(self, row: int) -> dict[str, Any] | None:
        """The record at row, if its block is here."""
        block = self._blocks.get(row // self.block_size)
        offset = row % self.block_size
        return block[offset] if block is not None and offset < len(block) else None

    def cached_blocks(self) -> list[int]:
        """The block numbers held now."""
        return sorted(self._blocks)

    def cached_rows(self) -> int:
        """How many rows are held now."""
        return sum(len(block) for block in self._blocks.values())

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # A view asks for seven roles per painted cell (a thousand calls a frame): the roles this model
        # never answers leave first, and nothing below builds more than the one value asked for.
        if role not in ANSWERED_ROLES or not index.isValid():
            return None
        row = index.row()
        block = self._blocks.get(row // self.block_size)
        offset = row % self.block_size
        if block is None or offset >= len(block):
            if role == DISPLAY:
                self._want(row // self.block_size)
                return PLACEHOLDER
            return self._placeholder_color if role == FOREGROUND else None
        if role == FOREGROUND or (role == BACKGROUND and not self._cell_errors):
            return None
        record = block[offset]
        column = self.columns[index.column()]
        if role == DISPLAY:
            return column.text(record.get(column.key))
        if role == EDIT:
            return record.get(column.key)
        error = self._cell_errors.get((str(record.get("id")), column.key)) if self._cell_errors else None
        if role == TOOLTIP:
            return error or column.text(record.get(column.key))
        return self._error_background if error else None  # BACKGROUND

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """A header click: the server sorts (the view's sort indicator shows which way)."""
        if 0 <= column < len(self.columns):
            self.set_sort(((self.columns[column].key, order == Qt.SortOrder.DescendingOrder),))

    # -- editing -------------------------------------------------------------------------------------

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self.columns[index.column()].editable and self.row(index.row()) is not None:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        """An edit is a request: the page sends it and replaces the row with the server's answer."""
        if role != Qt.ItemDataRole.EditRole or self.row(index.row()) is None:
            return False
        self.edit_requested.emit(index.row(), self.columns[index.column()].key, value)
        return False  # nothing changes here until the server has said yes

    def replace_row(self, row: int, record: dict[str, Any]) -> None:
        """Show the server's copy of the record at row (after an edit or a reload of it)."""
        block = self._blocks.get(row // self.block_size)
        if block is None or row % self.block_size >= len(block):
            return
        block[row % self.block_size] = record
        for key in [key for key in self._cell_errors if key[0] == str(record.get("id"))]:
            del self._cell_errors[key]
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))

    def set_cell_error(self, row: int, key: str, message: str) -> None:
        """Mark a cell as refused, with the reason in its tooltip."""
        record = self.row(row)
        if record is None:
            return
        self._cell_errors[(str(record.get("id")), key)] = message
        column = next((i for i, c in enumerate(self.columns) if c.key == key), None)
        if column is not None:
            self.dataChanged.emit(self.index(row, column), self.index(row, column))

    def cell_error(self, row: int, key: str) -> str | None:
        """The refusal shown on a cell, if any."""
        record = self.row(row)
        return None if record is None else self._cell_errors.get((str(record.get("id")), key))

    # -- fetching ------------------------------------------------------------------------------------

    def _want(self, block: int) -> None:
        self._asked[block] = None
        self._asked.move_to_end(block)
        self._timer.start()  # restarted by every paint: a fast scroll fetches only where it stops

    def fetch_now(self) -> None:
        """Fetch what the view asked for without waiting for the debounce (tests, a jump to the end)."""
        self._timer.stop()
        self._fetch_wanted()

    def _fetch_wanted(self) -> None:
        if self.total is None or self.source is None:
            return
        last = (self.total - 1) // self.block_size if self.total else -1
        recent = list(self._asked)[-RECENT_BLOCKS:]
        self._asked.clear()
        if not recent or last < 0:
            return
        center = sum(recent) / len(recent)
        wanted = {b + step for b in recent for step in range(-PREFETCH, PREFETCH + 1) if 0 <= b + step <= last}
        # The painted blocks first, then their neighbours, nearest the middle of the view first.
        for block in sorted(wanted, key=lambda b: (b not in recent, abs(b - center))):
            if block in self._blocks:
                self._blocks.move_to_end(block)
            elif block not in self._pending and block not in self._chained:
                waits_on = self._neighbour_bringing_cursor(block)
                if waits_on is None:
                    self._request(block)
                else:
                    self._chained[block] = waits_on
        self._evict(center, keep=wanted)

    def _neighbour_bringing_cursor(self, block: int) -> int | None:
        """The block in flight whose reply carries this block's cursor (cheaper than an offset), if any."""
        if block in self._forward or block in self._backward:
            return None
        if block - 1 in self._pending:
            return block - 1
        if block + 1 in self._pending and self._plan(block).reversed:
            return block + 1
        return None

    def _plan(self, block: int) -> _Plan:
        start = block * self.block_size
        sort, filter, count = self.sort_keys, self.filter, False
        if self.total is None:
            return _Plan(FetchRequest(sort_param(sort), filter, 0, None, self.block_size, count), False)
        end = min(start + self.block_size, self.total)
        limit = end - start
        if block in self._forward:
            return _Plan(FetchRequest(sort_param(sort), filter, None, self._forward[block], limit, count), False)
        if block in self._backward:
            reverse = sort_param(sort, reverse=True)
            return _Plan(FetchRequest(reverse, filter, None, self._backward[block], limit, count), True)
        if start and self.total - end < start and self.exact_reverse(sort):
            reverse = sort_param(sort, reverse=True)
            return _Plan(FetchRequest(reverse, filter, self.total - end, None, limit, count), True)
        return _Plan(FetchRequest(sort_param(sort), filter, start, None, limit, count), False)

    def _request(self, block: int) -> None:
        assert self.source is not None
        plan = self._plan(block)
        self._pending.add(block)
        self.requests.append(plan.request)
        generation = self.generation
        self.source.fetch(plan.request, lambda page, error: self._arrived(generation, block, plan, page, error))

    def _arrived(self, generation: int, block: int, plan: _Plan, page: Page | None, error: ApiError | None) -> None:
        if generation != self.generation:
            self.stale_replies += 1
            return
        self._pending.discard(block)
        if page is None:
            for waiting in [w for w, on in self._chained.items() if on == block]:
                del self._chained[waiting]  # asked for again by the next paint, by offset
            self._report(error or ApiError(0, "The rows could not be loaded."))
            return
        if self.total is None:
            # Rows to show before the count is in; when the first block is all there is, it is the count.
            self._counted = self._counted or (block == 0 and not page.next_cursor and not plan.reversed)
            self._set_total(len(page.items))
        items = list(reversed(page.items)) if plan.reversed else page.items
        self._blocks[block] = items
        self._blocks.move_to_end(block)
        if page.next_cursor and len(page.items) == plan.request.limit:
            if plan.reversed:
                self._backward[block - 1] = page.next_cursor
            else:
                self._forward[block + 1] = page.next_cursor
        start = block * self.block_size
        if items and self.columnCount():
            self.dataChanged.emit(self.index(start, 0), self.index(start + len(items) - 1, self.columnCount() - 1))
        self._evict(block, keep={block})
        for waiting in [w for w, on in self._chained.items() if on == block]:
            del self._chained[waiting]
            if waiting not in self._blocks and waiting not in self._pending:
                self._request(waiting)
        self.block_arrived.emit(block)
        self._announce()

    def _request_count(self) -> None:
        assert self.source is not None
        request = FetchRequest(sort_param(self.sort_keys), self.filter, 0, None, 1, count=True)
        self.requests.append(request)
        generation = self.generation
        self.source.fetch(request, lambda page, error: self._count_arrived(generation, page, error))

    def _count_arrived(self, generation: int, page: Page | None, error: ApiError | None) -> None:
        if generation != self.generation:
            self.stale_replies += 1
            return
        if page is None or page.total is None:
            self._report(error or ApiError(0, "The rows could not be counted."))
            return
        self._counted = True
        self._set_total(page.total)
        self._announce()

    def _announce(self) -> None:
        """Emit loaded once a (re)load has both its total and a block."""
        if self._counted and self._blocks and not self._announced:
            self._announced = True
            self.loaded.emit()

    def _report(self, error: ApiError) -> None:
        """Emit failed (once before loaded: a bad filter fails the count and the first block alike)."""
        if self._announced or not self._reported:
            self._reported = True
            self.failed.emit(error)

    def _set_total(self, total: int) -> None:
        old = self.total or 0
        if total == old:
            self.total = total
            return
        if total > old:
            self.beginInsertRows(QModelIndex(), old, total - 1)
            self.total = total
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), total, old - 1)
            self.total = total
            self.endRemoveRows()

    def _evict(self, center: float, keep: set[int]) -> None:
        """Drop the blocks farthest from center until the cache is within bounds."""
        excess = len(self._blocks) - self.max_blocks
        if excess <= 0:
            return
        candidates = sorted((b for b in self._blocks if b not in keep), key=lambda b: abs(b - center), reverse=True)
        for block in candidates[:excess]:
            del self._blocks[block]
