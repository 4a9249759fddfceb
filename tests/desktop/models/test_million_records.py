"""The lazy table model over HTTP on a real `outpost serve` holding a million records: top to end and back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from desktop.api import ApiClient
from desktop.app import application
from desktop.models.lazy_table_model import LazyColumn, LazyTableModel
from desktop.models.row_source import ApiRowSource
from tests.million_records import COLLECTION, Seeded, fields_of, row_number, seed, serving

ROWS = 1_000_000
WAIT_MS = 30_000
STEPS = 20  # scrollbar positions from the top to the end (and the same ones back)
COLUMNS = [LazyColumn("id", "Id"), LazyColumn("n", "N"), LazyColumn("title", "Title"), LazyColumn("status", "Status")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A data dir with the million records (seeded once for the module)."""
    return seed(tmp_path_factory.mktemp("million") / "data", ROWS)


@pytest.fixture
def api(qtbot: QtBot, seeded: Seeded) -> Iterator[ApiClient]:
    """An ApiClient signed in to a real backend serving the seeded data dir."""
    application()
    with serving(seeded) as backend:
        credentials = {"email": seeded.email, "password": seeded.password}
        login = httpx.post(f"{backend.url}/api/v1/auth/login", json=credentials)
        assert login.status_code == 200, login.text
        client = ApiClient()
        client.set_base_url(backend.url)
        client.start_session(seeded.email, login.json())
        yield client
        client.close()


def visible_rows(view: QTableView) -> range:
    top = view.rowAt(0)
    bottom = view.rowAt(view.viewport().height() - 1)
    return range(top, (bottom if bottom >= 0 else view.model().rowCount() - 1) + 1)


def assert_real_records(model: LazyTableModel) -> int:
    """Every row held is the seeded record that belongs at its position; how many were checked."""
    checked = 0
    for block in model.cached_blocks():
        for offset in range(model.block_size):
            position = block * model.block_size + offset
            record = model.row(position)
            if record is None:
                break
            assert row_number(record["id"]) == position, (position, record["id"])
            assert (record["n"], record["title"], record["status"]) == fields_of(position)[:3]
            checked += 1
    return checked


def test_scrolls_a_million_real_records_top_to_end_and_back(qtbot: QtBot, api: ApiClient) -> None:
    view = QTableView()
    view.resize(700, 400)
    qtbot.addWidget(view)
    view.show()
    model = LazyTableModel()
    view.setModel(model)
    started = time.perf_counter()
    with qtbot.waitSignal(model.loaded, timeout=WAIT_MS):
        model.set_source(ApiRowSource(api, COLLECTION), COLUMNS)
    first_page_s = time.perf_counter() - started
    assert model.rowCount() == ROWS
    bar = view.verticalScrollBar()
    # The view lays rows out on a later turn: first the first block's, then the counted million's.
    qtbot.waitUntil(lambda: bar.maximum() > ROWS // 2, timeout=WAIT_MS)
    positions = [bar.maximum() * step // STEPS for step in range(STEPS + 1)]
    visited: set[int] = set()
    for position in [*positions, *reversed(positions)]:
        bar.setValue(position)
        rows = visible_rows(view)
        qtbot.waitUntil(lambda rows=rows: all(model.row(r) is not None for r in rows), timeout=WAIT_MS)
        visited.update(rows)
        assert assert_real_records(model) >= len(rows)
        assert model.cached_rows() <= model.max_blocks * model.block_size
    assert {0, ROWS - 1} <= visited
    assert visible_rows(view)[0] == 0
    assert model.stale_replies == 0
    assert model.rowCount() == ROWS
    # The end came by one request with the sort reversed, not by an offset of a million.
    assert any(r.sort == "-id" and not r.offset for r in model.requests)
    assert first_page_s < 10, first_page_s  # a generous bound for CI; the grid bench measures it


def test_the_seeded_ids_are_uuidv7_in_the_order_of_n(tmp_path: Path) -> None:
    from tests.million_records import record_id

    ids = [record_id(n) for n in (0, 1, 4095, 4096, ROWS - 1)]
    assert ids == sorted(ids)
    assert all(i[14] == "7" and i[19] == "8" for i in ids)
    assert [row_number(i) for i in ids] == [0, 1, 4095, 4096, ROWS - 1]
    with pytest.raises(ValueError, match="not a seeded id"):
        row_number("019b76da-a800-7000-8000-000000000001")
