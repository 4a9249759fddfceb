"""The one place that picks the engine: SQLite in the data dir, or the PostgreSQL a URL names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backend.db.engine import Database
from backend.db.migrate import MigrationResult, upgrade_database
from backend.db.own_loop import run_in_own_loop
from backend.db.urls import database_url
from backend.settings import Settings

T = TypeVar("T")


def open_database(settings: Settings) -> Database:
    """The deployment's database: PostgreSQL when settings name one (server mode), else SQLite in the data dir."""
    if settings.database_url:
        from backend.db.postgres_database import PostgresDatabase  # asyncpg: the server extra, loaded only here

        return PostgresDatabase(settings.database_url, writer_wait_s=settings.writer_wait_s)
    from backend.db.sqlite_database import SqliteDatabase

    return SqliteDatabase(
        settings.paths.database, synchronous=settings.sqlite_synchronous, writer_wait_s=settings.writer_wait_s
    )


def migrate(settings: Settings) -> MigrationResult:
    """Bring the deployment's database to this version's schema (backing it up first where it holds data)."""
    if settings.database_url:
        from backend.db.postgres_migrate import upgrade_postgres

        return upgrade_postgres(settings.database_url, settings.paths)
    return upgrade_database(settings.paths, synchronous=settings.sqlite_synchronous)


def read_at_start(settings: Settings, work: Callable[[Connection], T]) -> T | None:
    """work(connection) on a connection of its own, before any Database is open; None if there is no database yet."""
    if settings.database_url:
        url = settings.database_url

        async def read() -> T:
            engine = create_async_engine(database_url(url), poolclass=NullPool, hide_parameters=True)
            try:
                async with engine.connect() as connection:
                    return await connection.run_sync(work)
            finally:
                await engine.dispose()

        return run_in_own_loop(read())
    path = settings.paths.database
    if not path.exists():
        return None
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool, hide_parameters=True)
    try:
        with engine.connect() as connection:
            return work(connection)
    finally:
        engine.dispose()
