"""The database: one writer connection, a few read-only readers (DESIGN rule 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from backend.db.group_commit import GroupCommit
from backend.db.sqlite import configure_sqlite_engine

T = TypeVar("T")
WRITER_BEGIN = "BEGIN IMMEDIATE"

READER_CONNECTIONS = 4


class Database:
    """Async access to outpost.db; every write goes through the single writer connection."""

    def __init__(self, path: Path, *, synchronous: str = "FULL", writer_wait_s: float = 30.0) -> None:
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
        configure_sqlite_engine(self.writer_engine.sync_engine, synchronous=synchronous, begin=WRITER_BEGIN)
        configure_sqlite_engine(self.reader_engine.sync_engine, synchronous=synchronous, query_only=True)
        self._writer_sessions = async_sessionmaker(self.writer_engine, expire_on_commit=False)
        self._reader_sessions = async_sessionmaker(self.reader_engine, expire_on_commit=False)
        self._groups = GroupCommit(self.writer_engine, begin=WRITER_BEGIN, wait_s=writer_wait_s)
        # One plain (not aiosqlite) read-only connection for point reads on the event loop (see read_now).
        self.point_engine = create_engine(
            f"sqlite:///{path}", poolclass=StaticPool, hide_parameters=True, connect_args={"check_same_thread": False}
        )
        configure_sqlite_engine(self.point_engine, synchronous=synchronous, query_only=True)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session on the writer, committed on success and rolled back on error."""
        async with self._writer_sessions() as session, session.begin():
            yield session

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

    @contextmanager
    def read_now(self) -> Iterator[Connection]:
        """A connection for one indexed point read, run right here on the event loop.

        A primary-key read on a WAL reader takes microseconds; an aiosqlite session spends far more in
        event-loop turns and a thread hop than in SQLite. Only for bounded reads: scans stay on read().
        Each use sees the latest commit, so a read after a 2xx write sees that write.
        """
        with self.point_engine.connect() as connection:
            yield connection

    def size_bytes(self) -> int:
        """Bytes on disk: the database file and its write-ahead log."""
        total = 0
        for suffix in ("", "-wal"):
            candidate = self.path.with_name(self.path.name + suffix)
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    async def close(self) -> None:
        """Close every connection."""
        await self._groups.drain()
        self._groups.forget_connection()  # its engine borrows the writer's connection, closed here
        await self.writer_engine.dispose()
        await self.reader_engine.dispose()
        self.point_engine.dispose()
