"""Transactions that change table shapes on the one writer, as DESIGN rule 5 asks for table rebuilds.

SQLite ignores `PRAGMA foreign_keys` inside a transaction, and with enforcement on, the DROP TABLE of a
rebuild would cascade (or fail); so enforcement goes off on the writer connection before BEGIN
IMMEDIATE, `PRAGMA foreign_key_check` runs before COMMIT, and enforcement comes back on after, whatever
happened. The connection is the writer engine's only one, so this still holds the one writer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.engine import Database
from backend.db.sqlite import ForeignKeyViolation


def _set_foreign_keys(sync_connection: Any, on: bool) -> None:
    # On the DB-API connection itself: through SQLAlchemy the statement would autobegin a transaction first.
    cursor = sync_connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


@asynccontextmanager
async def schema_write(db: Database) -> AsyncIterator[AsyncSession]:
    """A writer session with foreign keys off, checked before COMMIT; committed on success."""
    async with db.writer_engine.connect() as connection:
        if connection.dialect.name != "sqlite":  # PostgreSQL: DDL is transactional, constraints stay on
            async with AsyncSession(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session
            return
        await connection.run_sync(_set_foreign_keys, False)
        try:
            async with AsyncSession(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session
                broken = (await session.execute(text("PRAGMA foreign_key_check"))).all()
                if broken:
                    raise ForeignKeyViolation(f"foreign key check failed: {broken[:5]}")
        finally:
            if not connection.invalidated:
                await connection.run_sync(_set_foreign_keys, True)
