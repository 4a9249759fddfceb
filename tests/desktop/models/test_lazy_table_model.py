"""The lazy table model over a synthetic million rows: placeholders, blocks near the view, stale replies, eviction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from desktop.api import ApiError
from desktop.app import application
from desktop.models.json_decoder import OffThreadJson
from desktop.models.lazy_table_model import PLACEHOLDER, LazyColumn, LazyTableModel
from desktop.models.row_source import FetchRequest
from tests.desktop.models.synthetic_source import MILLION, SyntheticSource

WAIT_MS = 10_000
COLUMNS = [LazyColumn("id", "Id"), LazyColumn("n", "N"), LazyColumn("k", "K"), LazyColumn("name", "Name")]


def text(model: LazyTableModel, row: int, column: int = 3) -> str:
    return model.data(model.index(row, column))


def shown(model: LazyTableModel, row: int) -> bool:
    """Whether row's block is here (asking for it, as a painting view would, if not)."""
    return text(model, row) != PLACEHOLDER


def loaded_model(qtbot: QtBot, source: SyntheticSource, **options: int) -> LazyTableModel:
    model = LazyTableModel(**options)
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        model.set_source(source, COLUMNS)
    return model


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[QTableView]:
    application()
    table = QTableView()
    table.resize(600, 400)
    qtbot.addWidget(table)
    table.show()
    return table


def visible_rows(view: QTableView) -> range:
    top = view.rowAt(0)
    bottom = view.rowAt(view.viewport().height() - 1)
    return range(top, (bottom if bottom >= 0 else view.model().rowCount() - 1) + 1)


def wait_visible_rows_filled(qtbot: QtBot, view: QTableView) -> None:
    model = view.model()
    assert isinstance(model, LazyTableModel)
    qtbot.waitUntil(lambda: all(model.row(r) is not None for r in visible_rows(view)), timeout=WAIT_MS)
    for r in visible_rows(view):
        assert text(model, r) == f"row {r}"  # the right rows, in the right places


def test_placeholders_until_the_block_arrives(qtbot: QtBot) -> None:
    application()
    source = SyntheticSource(hold=True)
    model = LazyTableModel()
    model.set_source(source, COLUMNS)
    assert model.rowCount() == 0  # nothing to show before the total is known
    first, count = (held.request for held in source.held)
    assert (first.offset, first.count, first.limit, first.sort) == (0, False, 200, "id")
    assert (count.offset, count.count, count.limit, count.sort) == (0, True, 1, "id")  # the count goes alone
    with qtbot.assertNotEmitted(model.loaded):
        source.release()
    assert model.rowCount() == 200  # the first rows show before the count is in
    assert text(model, 0) == "row 0"
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        source.release()
    assert model.rowCount() == MILLION
    assert text(model, 0) == "row 0"
    assert text(model, 500) == PLACEHOLDER
    assert model.data(model.index(500, 3), Qt.ItemDataRole.ForegroundRole).name() == "#9aa5b1"
    model.fetch_now()
    asked = sorted((h.request.offset or 0, h.request.cursor or "") for h in source.held)
    assert asked == [(0, "p:200"), (400, "")]  # block 2, block 1 by block 0's cursor; block 3 waits for 2's
    assert text(model, 500) == PLACEHOLDER  # still: the reply has not come
    while source.held:
        source.release()
    assert text(model, 500) == "row 500"
    assert model.flags(model.index(500, 3)) & Qt.ItemFlag.ItemIsEditable == Qt.ItemFlag.NoItemFlags


def test_scrolls_a_million_rows_from_top_to_end_and_back(qtbot: QtBot, view: QTableView) -> None:
    source = SyntheticSource()
    model = loaded_model(qtbot, source)
    view.setModel(model)
    wait_visible_rows_filled(qtbot, view)
    scrollbar = view.verticalScrollBar()
    positions = [scrollbar.maximum() * step // 20 for step in range(21)]
    for position in [*positions, *reversed(positions)]:
        scrollbar.setValue(position)
        wait_visible_rows_filled(qtbot, view)
        assert model.cached_rows() <= model.max_blocks * model.block_size
    assert visible_rows(view)[0] == 0
    assert model.stale_replies == 0


def test_next_blocks_follow_the_cursor_of_the_block_before(qtbot: QtBot, view: QTableView) -> None:
    source = SyntheticSource()
    model = loaded_model(qtbot, source)
    view.setModel(model)
    for row in range(0, 2_000, 20):
        view.scrollTo(model.index(row, 0), QTableView.ScrollHint.PositionAtTop)
        wait_visible_rows_filled(qtbot, view)
    later = [r for r in model.requests[1:] if not r.count]  # after the first block, beside the count
    assert later, "scrolling fetched nothing"
    assert all(r.cursor is not None and r.offset is None for r in later), later  # no offset scans when scrolling on


def test_jump_to_the_end_is_one_request_with_the_sort_reversed(qtbot: QtBot, view: QTableView) -> None:
    source = SyntheticSource()
    model = loaded_model(qtbot, source)
    view.setModel(model)
    sent = len(model.requests)
    view.scrollToBottom()
    wait_visible_rows_filled(qtbot, view)
    last = model.requests[sent]
    assert (last.sort, last.offset, last.limit) == ("-id", 0, 200)
    assert text(model, MILLION - 1) == f"row {MILLION - 1}"
    # Scrolling back up from the end follows the reversed fetches' cursors.
    sent = len(model.requests)
    for row in range(MILLION - 40, MILLION - 1_000, -20):
        view.scrollTo(model.index(row, 0), QTableView.ScrollHint.PositionAtTop)
        wait_visible_rows_filled(qtbot, view)
    assert all(r.sort == "-id" and r.cursor is not None for r in model.requests[sent:])


def test_near_the_end_by_offset_when_the_reversed_sort_is_not_the_mirror(qtbot: QtBot) -> None:
    application()
    source = SyntheticSource(size=10_000)
    model = loaded_model(qtbot, source)
    model.exact_reverse = lambda _sort: False  # a nullable sort key: NULLs sort last both ways
    assert text(model, 9_999) == PLACEHOLDER
    model.fetch_now()
    qtbot.waitUntil(lambda: model.row(9_999) is not None, timeout=WAIT_MS)
    assert all(not r.sort.startswith("-") for r in model.requests)
    assert text(model, 9_999) == "row 9999"


def test_a_new_sort_drops_the_replies_of_the_old_one(qtbot: QtBot) -> None:
    application()
    source = SyntheticSource(hold=True)
    model = LazyTableModel()
    model.set_source(source, COLUMNS)
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        source.release()  # the first block
        source.release()  # the count
    assert text(model, 5_000) == PLACEHOLDER
    model.fetch_now()
    old = [h.request for h in source.held]
    model.sort(2, Qt.SortOrder.DescendingOrder)  # header click on K
    model.fetch_now()
    new = [h.request for h in source.held if h.request not in old]
    assert new
    assert all(r.sort == "-k,id" for r in new)
    while any(h.request in old for h in source.held):
        source.release(lambda held: next(h for h in held if h.request in old))
    assert model.stale_replies == len(old)
    assert model.row(5_000) is None  # the old order's rows never land in the new one
    while source.held:
        source.release()
    assert model.data(model.index(0, 2)) == str(MILLION - 1)
    assert next(r for r in model.requests if r.sort == "-k,id").count  # a reload counts again
    assert model.data(model.index(300, 2)) == str(MILLION - 301)  # block 1 came by block 0's cursor


def test_eviction_keeps_the_cache_bounded(qtbot: QtBot) -> None:
    application()
    source = SyntheticSource()
    model = loaded_model(qtbot, source, max_blocks=8)
    for row in range(0, MILLION, MILLION // 60):
        assert text(model, row) == PLACEHOLDER or model.row(row) is not None
        model.fetch_now()
        qtbot.waitUntil(lambda row=row: model.row(row) is not None, timeout=WAIT_MS)
        assert len(model.cached_blocks()) <= 8
    assert model.cached_rows() <= 8 * 200
    assert model.row(0) is None  # far from the view now: gone
    assert shown(model, MILLION - MILLION % (MILLION // 60))


def test_a_filter_error_is_reported_with_its_position(qtbot: QtBot) -> None:
    application()
    model = loaded_model(qtbot, SyntheticSource())
    with qtbot.waitSignal(model.failed, timeout=WAIT_MS) as failed:
        model.set_filter("  n <<")
    error = failed.args[0]
    assert isinstance(error, ApiError)
    assert (error.status, error.problem["position"]) == (400, 2)
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        model.set_filter("n < 1000")
    assert model.rowCount() == 1_000


def test_pages_decoded_off_the_gui_thread_arrive_whole(qtbot: QtBot, view: QTableView) -> None:
    source = SyntheticSource(decoder=OffThreadJson())
    model = loaded_model(qtbot, source)
    view.setModel(model)
    view.scrollToBottom()
    wait_visible_rows_filled(qtbot, view)


def test_edits_are_requests_and_errors_sit_on_their_cell(qtbot: QtBot) -> None:
    application()
    model = LazyTableModel()
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        model.set_source(SyntheticSource(), [LazyColumn("id", "Id"), LazyColumn("name", "Name", editable=True)])
    index = model.index(3, 1)
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(model.edit_requested, timeout=WAIT_MS) as edit:
        assert not model.setData(index, "renamed")
    assert edit.args == [3, "name", "renamed"]
    assert model.data(index) == "row 3"  # unchanged until the server answers
    model.set_cell_error(3, "name", "must be at most 5 characters")
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == "must be at most 5 characters"
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    model.replace_row(3, {**model.row(3), "name": "short"})
    assert model.data(index) == "short"
    assert model.cell_error(3, "name") is None


def test_the_decoder_answers_on_the_gui_thread(qtbot: QtBot) -> None:
    from PySide6.QtCore import QThread

    app = application()
    decoder = OffThreadJson()
    results: list[tuple[object, str | None, bool]] = []
    decoder.decode(b'{"items": [1, 2]}', lambda d, e: results.append((d, e, QThread.currentThread() is app.thread())))
    decoder.decode(b"{not json", lambda d, e: results.append((d, e, QThread.currentThread() is app.thread())))
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)
    good = next(r for r in results if r[1] is None)
    bad = next(r for r in results if r[1] is not None)
    assert good == ({"items": [1, 2]}, None, True)
    assert bad[0] is None
    assert "not JSON" in str(bad[1])
    assert bad[2]


def test_fetch_request_defaults() -> None:
    assert FetchRequest("id").limit == 200
