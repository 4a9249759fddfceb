"""The database every service uses: one interface, one implementation per engine (see factory.py).

Embedded, it is SQLite in the data dir with one writer connection and a few readers (sqlite_database.py,
DESIGN rule 5); in server mode, PostgreSQL through a pool of connections (postgres_database.py). Services
know only this interface; what differs between the engines stays behind it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

T = TypeVar("T")
log = logging.getLogger(__name__)


class Database(ABC):
    """Async access to Outpost's database: sessions, whole writes and reads in one trip, point reads."""

    engine_name: str  # "sqlite" or "postgresql"
    writer_engine: AsyncEngine  # the engine writes go through (schema changes take a connection of it)

    def __init__(self) -> None:
        # Called with the tags (see group_commit.touch) of each committed write, before its caller is answered:
        # the cache moves those tags' generations here, so no reply after the commit can be served stale data.
        self.after_commit: list[Callable[[frozenset[str]], None]] = []

    @property
    def dialect(self) -> Dialect:
        """The SQL dialect statements are compiled for."""
        return self.writer_engine.dialect

    def _notify(self, touched: frozenset[str]) -> None:
        """Tell the after_commit listeners which tags a commit touched, before anyone is answered.

        The write is committed: a listener that fails (the shared cache's Redis away) is logged, and neither
        fails the write's reply (a client would retry a write that stands) nor keeps the others from hearing.
        """
        for listener in self.after_commit if touched else ():
            try:
                listener(touched)
            except Exception:
                log.exception("an after-commit listener failed; cached answers about %s may be stale", sorted(touched))

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session on a writer, committed on success and rolled back on error."""

    @abstractmethod
    async def write_in_thread(self, work: Callable[[Session], T]) -> T:
        """work(session) committed as one write; its result, or the exception it (or the COMMIT) raised.

        work must not await; it runs with the caller's context variables (the request id), in a transaction
        (or savepoint) of its own: if it raises, nothing it did stays. Returns once the write is durable.
        """

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A read-only session with one consistent snapshot."""

    @abstractmethod
    async def read_in_thread(self, work: Callable[[Connection], T]) -> T:
        """work(connection) in one read-only snapshot, in one trip; its result. work must not await."""

    @abstractmethod
    def read_here(self, work: Callable[[Connection], T]) -> T:
        """work(connection) in one read-only snapshot, on this (worker) thread, never the event loop's."""

    @abstractmethod
    async def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of one precompiled (for self.dialect), indexed, bounded SELECT: the hot point reads.

        The rows are as the driver gives them; the read sees every write answered before it.
        """

    @abstractmethod
    async def size_bytes(self) -> int:
        """Bytes the database takes on disk."""

    @abstractmethod
    async def version(self) -> str:
        """The engine and its version, for people: "SQLite 3.40.1", "PostgreSQL 15.20"."""

    @abstractmethod
    def location(self) -> str:
        """Where the data lives, for people: a file's path, or a server's address without credentials."""

    @abstractmethod
    async def close(self) -> None:
        """Finish what is queued, then close every connection."""
