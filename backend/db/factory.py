"""The one place a Database is made: SQLite in the data dir, or the PostgreSQL a URL names."""

from __future__ import annotations

from backend.db.engine import Database
from backend.settings import Settings


def open_database(settings: Settings) -> Database:
    """The deployment's database: PostgreSQL when settings name one (server mode), else SQLite in the data dir."""
    if settings.database_url:
        from backend.db.postgres_database import PostgresDatabase  # asyncpg: the server extra, loaded only here

        return PostgresDatabase(settings.database_url, writer_wait_s=settings.writer_wait_s)
    from backend.db.sqlite_database import SqliteDatabase

    return SqliteDatabase(
        settings.paths.database, synchronous=settings.sqlite_synchronous, writer_wait_s=settings.writer_wait_s
    )
