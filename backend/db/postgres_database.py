"""Server mode: PostgreSQL through a pool of connections (asyncpg), shared by every instance of a deployment.

PostgreSQL takes concurrent writers, so there is no single writer here: each write is its own transaction on
a pooled connection, and what must be ordered (the audit chain, the change log) is ordered inside the
database (see db/locks.py). Point reads go straight to asyncpg, whose connections keep each statement
prepared after its first use; everything else goes through SQLAlchemy's async engine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from backend.db.engine import Database
from backend.db.group_commit import TOUCHED
from backend.db.urls import database_url, shown_database_url

T = TypeVar("T")
POOL_SIZE = 10  # connections each instance keeps; a deployment's total must stay under max_connections
POOL_OVERFLOW = 10
POINT_READ_CONNECTIONS = 4
# Reads see one snapshot (as SQLite's read transactions do) and may write nothing.
READ_OPTIONS = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


class PostgresDatabase(Database):
    """Async access to a PostgreSQL database; writes are transactions on a pool's connections."""

    engine_name = "postgresql"

    def __init__(self, url: str, *, writer_wait_s: float = 30.0) -> None:
        super().__init__()
        self.url = url
        # hide_parameters: a failed statement's message would otherwise quote its values (hashes, digests).
        self.writer_engine = create_async_engine(
            database_url(url),
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            pool_timeout=writer_wait_s,
            pool_pre_ping=True,  # a server restarted under us: a fresh connection, not an error for a request
            hide_parameters=True,
        )
        self.reader_engine: AsyncEngine = self.writer_engine.execution_options(**READ_OPTIONS)
        self._writer_sessions = async_sessionmaker(self.writer_engine, expire_on_commit=False)
        self._reader_sessions = async_sessionmaker(self.reader_engine, expire_on_commit=False)
        self._point_pool: asyncpg.Pool | None = None
        self._point_pool_lock = asyncio.Lock()
        self._version: str | None = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._writer_sessions() as session:
            async with session.begin():
                yield session
            self._notify(frozenset(session.info.pop(TOUCHED, ())))

    async def write_in_thread(self, work: Callable[[Session], T]) -> T:
        # One transaction of its own: PostgreSQL needs no group to share a COMMIT, many commit at once.
        # work runs through SQLAlchemy's greenlet bridge, so its statements await asyncpg without work awaiting.
        async with self._writer_sessions() as session:
            async with session.begin():
                result = await session.run_sync(work)
            self._notify(frozenset(session.info.pop(TOUCHED, ())))
            return result

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader_sessions() as session, session.begin():
            yield session

    async def read_in_thread(self, work: Callable[[Connection], T]) -> T:
        async with self.reader_engine.connect() as connection, connection.begin():
            return await connection.run_sync(work)

    def read_here(self, work: Callable[[Connection], T]) -> T:
        # A worker thread has no event loop of its own, and the pool's connections belong to the server's:
        # the read gets a loop and a connection of its own for its length (an export's, say).
        async def read() -> T:
            engine = create_async_engine(database_url(self.url), poolclass=NullPool, hide_parameters=True)
            try:
                async with engine.execution_options(**READ_OPTIONS).connect() as connection, connection.begin():
                    return await connection.run_sync(work)
            finally:
                await engine.dispose()

        return asyncio.run(read())

    async def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        pool = self._point_pool or await self._open_point_pool()
        return list(await pool.fetch(sql, *params))

    async def _open_point_pool(self) -> asyncpg.Pool:
        async with self._point_pool_lock:
            if self._point_pool is None:
                url = database_url(self.url).set(drivername="postgresql")
                self._point_pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=POINT_READ_CONNECTIONS,
                    init=_json_codecs,
                    # Each use is one autocommit SELECT: nothing to reset, and the default reset is a round trip.
                    reset=_nothing_to_reset,
                )
            return self._point_pool

    async def size_bytes(self) -> int:
        async with self.reader_engine.connect() as connection:
            return int((await connection.execute(text("SELECT pg_database_size(current_database())"))).scalar_one())

    def location(self) -> str:
        return shown_database_url(self.url)

    async def version(self) -> str:
        if self._version is None:
            async with self.reader_engine.connect() as connection:
                shown = (await connection.execute(text("SHOW server_version"))).scalar_one()
            self._version = f"PostgreSQL {str(shown).split()[0]}"
        return self._version

    async def close(self) -> None:
        if self._point_pool is not None:
            await self._point_pool.close()
            self._point_pool = None
        await self.writer_engine.dispose()


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """JSON in and out as Python values, as SQLAlchemy's own asyncpg connections do."""
    for name in ("json", "jsonb"):
        await connection.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    return None
