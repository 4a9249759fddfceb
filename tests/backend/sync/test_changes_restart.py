"""Across restarts: the clock is seeded past every reading the database holds, pruned or pulled."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import TypeVar

from sqlalchemy import text

from backend.db.engine import Database
from backend.db.sqlite_database import SqliteDatabase
from backend.sync.changes import Change, ChangeLog
from backend.sync.clock import Hlc
from backend.sync.state import NodeIdentity, load_node_identity, raise_high_water, read_high_water

T = TypeVar("T")
HOUR_MS = 3_600_000
NOW_MS = 1_800_000_000_000
OTHER = "00000000000000bb"


def run(path: Path, scenario: Callable[[Database], Awaitable[T]]) -> T:
    """Run scenario against a fresh Database on path (a process start, as far as the clock knows)."""

    async def go() -> T:
        db = SqliteDatabase(path, synchronous="NORMAL")
        try:
            return await scenario(db)
        finally:
            await db.close()

    return asyncio.run(go())


async def edit(db: Database, log: ChangeLog, record_id: str, op: str) -> Change:
    async with db.write() as session:
        return await log.append(
            session,
            collection_id="c",
            collection="sites",
            record_id=record_id,
            op=op,
            fields={"fa": record_id},
            schema_version=1,
            base_version=0,
        )


def first_tick_after_restart(path: Path, wall_ms: int) -> Hlc:
    """The first reading a freshly started node gives a local write, its wall clock at wall_ms."""

    async def scenario(db: Database) -> Hlc:
        return (await ChangeLog.open(db, wall=lambda: wall_ms)).clock.tick()

    return run(path, scenario)


def test_a_restart_with_the_wall_clock_set_back_never_goes_backwards(database_path: Path) -> None:
    async def before(db: Database) -> list[Change]:
        log = await ChangeLog.open(db, wall=lambda: NOW_MS)
        # The last edit coalesces into seq 1: the newest reading sits on the oldest seq.
        return [
            await edit(db, log, "r1", "insert"),
            await edit(db, log, "r2", "insert"),
            await edit(db, log, "r1", "update"),
        ]

    first, second, last = run(database_path, before)
    assert last.seq == first.seq < second.seq
    assert last.hlc > second.hlc

    after = first_tick_after_restart(database_path, NOW_MS - HOUR_MS)
    assert after > Hlc.parse(last.hlc)
    assert (after.wall_ms, after.counter) == (NOW_MS, 3)


def test_pruning_pushed_changes_keeps_the_clock_bound_by_the_high_water_mark(database_path: Path) -> None:
    async def push_then_prune(db: Database) -> Change:
        log = await ChangeLog.open(db, wall=lambda: NOW_MS)
        changes = [await edit(db, log, f"r{n}", "insert") for n in range(3)]
        async with db.write() as session:
            await log.mark_pushed(session, [change.seq for change in changes])
        async with db.write() as session:
            await session.execute(text("DELETE FROM changes WHERE pushed"))  # what a prune may delete
        return changes[-1]

    last = run(database_path, push_then_prune)
    with closing(sqlite3.connect(database_path)) as connection:
        assert connection.execute("SELECT count(*) FROM changes").fetchone() == (0,)
    assert first_tick_after_restart(database_path, NOW_MS - HOUR_MS) > Hlc.parse(last.hlc)

    # The high-water mark is what holds the line: without it the clock would run back with the wall clock.
    with closing(sqlite3.connect(database_path)) as connection, connection:
        connection.execute("DELETE FROM sync_state WHERE key = 'hlc_high_water'")
    assert first_tick_after_restart(database_path, NOW_MS - HOUR_MS) < Hlc.parse(last.hlc)


def test_a_saved_pull_observation_bounds_the_clock_after_a_restart(database_path: Path) -> None:
    remote = Hlc(NOW_MS + HOUR_MS // 2, 7, OTHER)

    async def pull(db: Database) -> None:
        log = await ChangeLog.open(db, wall=lambda: NOW_MS)
        log.clock.observe(remote)
        async with db.write() as session:
            await log.save_clock(session)

    run(database_path, pull)
    after = first_tick_after_restart(database_path, NOW_MS)
    assert after > remote
    assert after.node_id != OTHER


def test_the_high_water_mark_never_lowers(database_path: Path) -> None:
    node = "00000000000000aa"

    async def scenario(db: Database) -> list[Hlc | None]:
        marks = []
        for reading in (Hlc(500, 1, node), Hlc(400, 9, node), Hlc(500, 0, OTHER), Hlc(500, 2, node)):
            async with db.write() as session:
                await raise_high_water(session, reading)
            async with db.read() as session:
                marks.append(await read_high_water(session))
        return marks

    assert run(database_path, scenario) == [Hlc(500, 1, node), Hlc(500, 1, node), Hlc(500, 1, node), Hlc(500, 2, node)]


def test_the_node_identity_is_made_once_and_kept(database_path: Path, tmp_path: Path) -> None:
    async def identities(db: Database) -> list[NodeIdentity]:
        return list(await asyncio.gather(*(load_node_identity(db) for _ in range(5))))

    first = run(database_path, identities)
    again = run(database_path, identities)
    assert len(set(first + again)) == 1
    assert Hlc(0, 0, first[0].node_id).node_id == first[0].node_id  # 16 lowercase hex digits

    other_path = tmp_path / "other.db"
    other_path.write_bytes(b"")
    with closing(sqlite3.connect(database_path)) as source, closing(sqlite3.connect(other_path)) as target:
        source.backup(target)
    with closing(sqlite3.connect(other_path)) as connection, connection:
        connection.execute("DELETE FROM sync_state")
    assert run(other_path, identities)[0] != first[0]
