"""Keyset paging over nullable keys: NULLs last in both directions, every row once, values of every kind."""

from __future__ import annotations

import asyncio
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Date, Float, Integer, MetaData, Table, Text, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from backend.db.paging import CursorCodec, SortKey, keyset_page

ROWS = Table(
    "rows",
    MetaData(),
    Column("id", Text, primary_key=True),
    Column("n", Float),
    Column("d", Date),
    Column("i", Integer),
)


def test_a_cursor_carries_none_floats_and_dates() -> None:
    codec = CursorCodec(b"k" * 32)
    values = [None, 2.5, date(2026, 1, 2), "x"]
    assert codec.decode("s", codec.encode("s", values), 4) == values


@pytest.mark.parametrize("descending", [False, True])
def test_nulls_come_last_and_every_row_is_visited_once(tmp_path: Path, descending: bool) -> None:
    rng = random.Random(descending)
    rows = [
        {
            "id": f"{n:03d}",
            "n": rng.choice([None, 1.5, 2.5]),
            "d": rng.choice([None, date(2026, 1, 1)]),
            "i": rng.choice([None, 1]),
        }
        for n in range(60)
    ]

    async def walk() -> list[dict[str, Any]]:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
        async with engine.begin() as connection:
            await connection.run_sync(ROWS.metadata.create_all)
            await connection.execute(insert(ROWS), rows)
        keys = [
            SortKey(ROWS.c.n, descending, nullable=True),
            SortKey(ROWS.c.d, not descending, nullable=True),
            SortKey(ROWS.c.i, descending, nullable=True),
            SortKey(ROWS.c.id),
        ]
        codec, seen, cursor = CursorCodec(b"k" * 32), [], None
        async with engine.connect() as connection:
            session = AsyncSession(bind=connection)
            while True:
                page = await keyset_page(
                    session, select(ROWS), keys=keys, codec=codec, scope="rows", limit=7, cursor=cursor
                )
                seen += [dict(row._mapping) for row in page.rows]
                cursor = page.next_cursor
                if cursor is None:
                    break
        await engine.dispose()
        return seen

    seen = asyncio.run(walk())
    expected = sorted(rows, key=lambda r: r["id"])
    for name, desc in (("i", descending), ("d", not descending), ("n", descending)):
        valued = sorted((r for r in expected if r[name] is not None), key=lambda r, k=name: r[k], reverse=desc)
        expected = valued + [r for r in expected if r[name] is None]
    assert [r["id"] for r in seen] == [r["id"] for r in expected]
