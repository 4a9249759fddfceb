"""Embedded: SQLite in the data dir through one writer connection and a few read-only readers (DESIGN rule 5)."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from backend.db.engine import Database
from backend.db.group_commit import TOUCHED, GroupCommit
from backend.db.sqlite import configure_sqlite_engine

T = TypeVar("T")
WRITER_BEGIN = "BEGIN IMMEDIATE"

READER_CONNECTIONS = 4
# The writer's page cache (SQLite's default is 2 MiB): every insert walks each index of its table, and on a
# collection of 100 000 records the default cache re-read pages on every write (POST +10 % with 32 MiB).
# Readers keep the default: the OS's page cache serves them, and each would hold its own copy.
WRITER_CACHE_KIB = 32 * 1024


class SqliteDatabase(Database):
    """Async access to outpost.db; every write goes through the single writer connection."""

    engine_name = "sqlite"

    def __init__(self, path: Path, *, synchronous: str = "FULL", writer_wait_s: float = 30.0) -> None:
        super().__init__()
        self.path = path
        url = f"sqlite+aiosqlite:///{path}"
        # pool_size=1 and no overflow: the writer is one connection, so writers queue in
        # the pool rather than fight over SQLite's file lock (p99 769 ms -> 33 ms here).
        # hide_parameters: a failed statement's message would otherwise quote its values (hashes, digests)
        # into the exception, and from there into the log.
        self.writer_engine = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=writer_wait_s, hide_parameters=True
        )
        self.reader_engine = create_async_engine(
            url, pool_size=READER_CONNECTIONS, max_overflow=0, pool_timeout=30, hide_parameters=True
        )
        # IMMEDIATE takes the write lock at BEGIN, so a write never fails half-way on upgrade.
        configure_sqlite_engine(
            self.writer_engine.sync_engine, synchronous=synchronous, begin=WRITER_BEGIN, cache_kib=WRITER_CACHE_KIB
        )
        configure_sqlite_engine(self.reader_engine.sync_engine, synchronous=synchronous, query_only=True)
        self._writer_sessions = async_sessionmaker(self.writer_engine, expire_on_commit=False)
        self._reader_sessions = async_sessionmaker(self.reader_engine, expire_on_commit=False)
        self._groups = GroupCommit(self.writer_engine, begin=WRITER_BEGIN, wait_s=writer_wait_s, on_commit=self._notify)
        # Plain read-only connections, each used whole on a thread of its own (see read_in_thread).
        self.thread_reader_engine = create_engine(
            f"sqlite:///{path}",
            pool_size=READER_CONNECTIONS,
            max_overflow=0,
            pool_timeout=30,
            hide_parameters=True,
            connect_args={"check_same_thread": False},
        )
        configure_sqlite_engine(self.thread_reader_engine, synchronous=synchronous, query_only=True)
        self._reader_threads = ThreadPoolExecutor(READER_CONNECTIONS, thread_name_prefix="outpost-reader")
        # One plain (not aiosqlite) read-only connection for point reads on the event loop (see read_now).
        self.point_engine = create_engine(
            f"sqlite:///{path}", poolclass=StaticPool, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        configure_sqlite_engine(self.point_engine, synchronous=synchronous, query_only=True)
        self._point_connection: Any = None  # the point engine's pooled connection, held for rows_now

    def _committed(self, session: AsyncSession) -> None:
        """After a session's own commit: tell the after_commit listeners the tags it touched (see touch)."""
        self._notify(frozenset(session.info.pop(TOUCHED, ())))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session on the writer, committed on success and rolled back on error."""
        async with self._writer_sessions() as session:
            async with session.begin():
                yield session
            self._committed(session)

    async def write_in_thread(self, work: Callable[[Session], T]) -> T:
        """work(session) committed on the writer, run on the writer connection's own thread; its result.

        Each statement of an AsyncSession is a round trip through the event loop (about four turns);
        when readers keep the loop busy each turn waits behind theirs, and a sign-in's few statements
        held the one writer for seconds. Here the whole write is one trip, and the writes queued
        meanwhile share one transaction and one COMMIT (see group_commit.py). work must not await;
        it runs with the caller's context variables (the request id), in a savepoint of its own: if
        it raises, nothing it did stays, and the exception comes back here. Returns after the COMMIT.
        """
        return await self._groups.run(work)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session with one consistent snapshot."""
        async with self._reader_sessions() as session, session.begin():
            yield session

    async def read_in_thread(self, work: Callable[[Connection], T]) -> T:
        """work(connection) on a read-only connection of its own thread, in one snapshot; its result.

        For reads of several statements (a page, its count, its expansions): an aiosqlite session makes
        a round trip through the event loop per statement, and a filtered page spent more in those trips
        than in SQLite. Here the whole read is one trip. work must not await; it runs with the caller's
        context variables (the request id).
        """

        def read() -> T:
            with self.thread_reader_engine.connect() as connection, connection.begin():
                return work(connection)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_threads, contextvars.copy_context().run, read)

    def read_here(self, work: Callable[[Connection], T]) -> T:
        with self.thread_reader_engine.connect() as connection, connection.begin():
            return work(connection)

    @contextmanager
    def read_now(self) -> Iterator[Connection]:
        """A connection for one indexed point read, run right here on the event loop.

        A primary-key read on a WAL reader takes microseconds; an aiosqlite session spends far more in
        event-loop turns and a thread hop than in SQLite. Only for bounded reads: scans stay on read().
        Each use sees the latest commit, so a read after a 2xx write sees that write.
        """
        with self.point_engine.connect() as connection:
            yield connection

    def rows_now(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of one precompiled, indexed, bounded SELECT, run here on the event loop with no ORM at all.

        For the hottest reads (a record by id): SQLAlchemy's statement building and result machinery
        cost several times the ~10 µs SQLite spends. The connection is in autocommit, so the SELECT is
        its own read transaction, ended by fetching every row: the next read sees the latest commit.
        """
        if self._point_connection is None:
            self._point_connection = self.point_engine.raw_connection()
        return self._point_connection.driver_connection.execute(sql, params).fetchall()

    async def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self.rows_now(sql, params)  # on the loop: the read takes microseconds, a thread hop far more

    async def size_bytes(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            candidate = self.path.with_name(self.path.name + suffix)
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    def location(self) -> str:
        return str(self.path)

    async def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    async def close(self) -> None:
        await self._groups.drain()
        self._groups.forget_connection()  # its engine borrows the writer's connection, closed here
        if self._point_connection is not None:
            self._point_connection.close()  # back to its pool, disposed below
            self._point_connection = None
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()
        self._reader_threads.shutdown(wait=True)
        self.thread_reader_engine.dispose()
        self.point_engine.dispose()
