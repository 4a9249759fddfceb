"""SQLite connection rules: pragmas, and explicit BEGIN so DDL is transactional."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

BUSY_TIMEOUT_MS = 5000

# SQLite's own lower() folds ASCII only ("É" stays "É"); PostgreSQL's lower() folds all of Unicode.
# This function is the SQLite stand-in for PostgreSQL's lower(), so `~` answers the same on both.
UNICODE_LOWER = "outpost_lower"


class ForeignKeyViolation(RuntimeError):
    """A transaction would commit rows whose references point nowhere."""


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def register_sql_functions(dbapi_connection: Any) -> None:
    """Give one SQLite connection the functions Outpost's SQL uses (PostgreSQL has them built in)."""
    # deterministic lets SQLite compute lower(:param) once per statement rather than once per row.
    dbapi_connection.create_function(UNICODE_LOWER, 1, _unicode_lower, deterministic=True)


def configure_sqlite_engine(
    engine: Engine,
    *,
    synchronous: str,
    begin: str = "BEGIN",
    query_only: bool = False,
    foreign_keys: bool = True,
    cache_kib: int | None = None,
) -> None:
    """Apply Outpost's pragmas to every connection and take over BEGIN.

    pysqlite (and aiosqlite over it) emits no BEGIN before DDL, so a migration's
    CREATE/ALTER would autocommit piecemeal. SQLAlchemy's documented recipe turns
    the driver's own transaction handling off and emits BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        if cache_kib is not None:
            cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        if query_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()
        register_sql_functions(dbapi_connection)

    take_over_begin(engine, begin)

    if not foreign_keys:
        # With enforcement off (table rebuilds), check the whole database before COMMIT.
        @event.listens_for(engine, "commit")
        def on_commit(connection: Any) -> None:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise ForeignKeyViolation(f"foreign key check failed: {broken[:5]}")


def take_over_begin(engine: Engine, begin: str) -> None:
    """Emit begin (e.g. BEGIN IMMEDIATE) at the start of each of engine's transactions."""

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
