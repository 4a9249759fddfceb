"""Group commit: writes queued together share one COMMIT; one that fails takes nothing of the others with it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.group_commit import after_commit, touch
from backend.db.overload import WriterBusy
from backend.db.sqlite_database import SqliteDatabase

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    # A wait no busy test machine outlasts: only the busy test below wants a short one.
    async with database_waiting(tmp_path, 30.0) as database:
        yield database


@asynccontextmanager
async def database_waiting(tmp_path: Path, writer_wait_s: float) -> AsyncIterator[Database]:
    """A database of notes, parents and children whose writes wait at most writer_wait_s for the writer."""
    path = tmp_path / "outpost.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(
            "PRAGMA journal_mode=WAL;"
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);"
            "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
            "CREATE TABLE children (id INTEGER PRIMARY KEY,"
            " parent INTEGER REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);"
        )
    database = SqliteDatabase(path, synchronous="NORMAL", writer_wait_s=writer_wait_s)  # fsync is not under test here
    try:
        yield database
    finally:
        await database.close()


class Refused(Exception):
    """A write's own reason to give up."""


def note(body: str, *, then_fail: bool = False) -> Callable[[Session], str]:
    """A write that adds a note (and with then_fail, raises after adding it)."""

    def work(session: Session) -> str:
        session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
        if then_fail:
            raise Refused(body)
        return body

    return work


def notes(db: Database) -> list[str]:
    with closing(sqlite3.connect(db.path)) as connection:
        return [row[0] for row in connection.execute("SELECT body FROM notes ORDER BY id")]


async def together(db: Database, works: list[Callable[[Session], Any]]) -> tuple[list[Any], int]:
    """Send works to the writer in one go; their outcomes (result or exception) and how many groups ran them."""
    before = db._groups.groups
    # gather starts every write before the flusher's first turn, so they queue into one group.
    outcomes = await asyncio.gather(*(db.write_in_thread(work) for work in works), return_exceptions=True)
    return list(outcomes), db._groups.groups - before


async def test_a_write_that_fails_in_a_group_rolls_back_only_itself(db: Database) -> None:
    outcomes, groups = await together(db, [note("a"), note("b", then_fail=True), note("c")])
    assert groups == 1
    assert outcomes[0] == "a"
    assert outcomes[2] == "c"
    assert isinstance(outcomes[1], Refused)
    assert notes(db) == ["a", "c"]  # b's insert went with its savepoint


async def test_a_failed_statement_in_a_group_does_not_spoil_the_transaction(db: Database) -> None:
    await db.write_in_thread(note("taken"))
    outcomes, groups = await together(db, [note("x"), note("taken"), note("y")])
    assert groups == 1
    assert isinstance(outcomes[1], IntegrityError)
    assert notes(db) == ["taken", "x", "y"]


async def test_many_concurrent_writes_are_all_committed_in_fewer_groups(db: Database) -> None:
    count = 300

    async def one(n: int) -> str:
        await asyncio.sleep(0)  # arrive over several loop turns, some while a group is being written
        return await db.write_in_thread(note(f"n{n}"))

    before = db._groups.groups
    done = await asyncio.gather(*(one(n) for n in range(count)))
    assert sorted(done) == sorted(f"n{n}" for n in range(count))
    assert sorted(notes(db)) == sorted(done)
    assert db._groups.groups - before < count  # they shared commits


async def test_a_commit_that_fails_fails_every_write_of_its_group(db: Database) -> None:
    def orphan(session: Session) -> None:
        # Deferred: the statement passes, the COMMIT refuses the dangling reference.
        session.execute(text("INSERT INTO children (id, parent) VALUES (1, 99)"))

    outcomes, groups = await together(db, [note("a"), orphan, note("b")])
    assert groups == 1
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes
    assert notes(db) == []
    assert await db.write_in_thread(note("after")) == "after"  # the writer is fine afterwards


async def test_after_commit_calls_run_after_the_commit_and_only_for_writes_that_stood(db: Database) -> None:
    called: list[tuple[str, list[str]]] = []

    def noting(body: str, *, then_fail: bool = False) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            # What the file holds when the call runs: the group's COMMIT must have happened by then.
            after_commit(session, lambda: called.append((body, notes(db))))
            return note(body, then_fail=then_fail)(session)

        return work

    await together(db, [noting("a"), noting("b", then_fail=True), noting("c")])
    assert called == [("a", ["a", "c"]), ("c", ["a", "c"])]


async def test_a_write_that_cannot_get_the_writer_in_time_is_refused_busy(tmp_path: Path) -> None:
    async with database_waiting(tmp_path, 0.2) as db:
        async with db.write() as session:  # another writer holds the one connection past the wait
            await session.execute(text("INSERT INTO notes (body) VALUES ('held')"))
            with pytest.raises(WriterBusy):
                await db.write_in_thread(note("late"))
        assert notes(db) == ["held"]


async def test_listeners_hear_the_tags_of_the_committed_writes_only_after_the_commit(db: Database) -> None:
    heard: list[tuple[frozenset[str], list[str]]] = []
    db.after_commit.append(lambda tags: heard.append((tags, notes(db))))

    def tagged(body: str, tag: str, *, then_fail: bool = False) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            touch(session, tag)
            return note(body, then_fail=then_fail)(session)

        return work

    outcomes, groups = await together(
        db, [tagged("x", "sites"), tagged("y", "visits", then_fail=True), tagged("z", "sites")]
    )
    assert groups == 1
    assert isinstance(outcomes[1], Refused)
    # Once per group, the failed write's tag left out, and the commit already visible to another connection.
    assert heard == [(frozenset({"sites"}), ["x", "z"])]
    async with db.write() as session:  # a session's own commit is heard too
        touch(session, "owners")
        await session.execute(text("INSERT INTO notes (body) VALUES ('w')"))
    assert heard[-1] == (frozenset({"owners"}), ["x", "z", "w"])
