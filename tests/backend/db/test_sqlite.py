"""SQLite rules: WAL, foreign keys, transactional DDL, FK check before commit with enforcement off."""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from backend.db.sqlite import ForeignKeyViolation, configure_sqlite_engine
from backend.db.sqlite_database import WRITER_CACHE_KIB, SqliteDatabase


def test_ddl_rolls_back_with_the_transaction(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", poolclass=NullPool)
    configure_sqlite_engine(engine, synchronous="FULL", begin="BEGIN IMMEDIATE")

    def failing_migration() -> None:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            raise RuntimeError("abort the migration")

    with pytest.raises(RuntimeError):
        failing_migration()
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all()
    assert tables == []


def test_foreign_key_check_blocks_commit_when_enforcement_is_off(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", poolclass=NullPool)
    configure_sqlite_engine(engine, synchronous="FULL", begin="BEGIN IMMEDIATE", foreign_keys=False)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"))
    with pytest.raises(ForeignKeyViolation), engine.begin() as connection:
        connection.execute(text("INSERT INTO child VALUES (1, 42)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM child")).scalar() == 0


def test_database_pragmas_and_read_only_readers(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, int, int, str]:
        db = SqliteDatabase(tmp_path / "x.db", synchronous="NORMAL")
        try:
            async with db.write() as session:
                await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            async with db.read() as session:
                mode = (await session.execute(text("PRAGMA journal_mode"))).scalar()
                fks = (await session.execute(text("PRAGMA foreign_keys"))).scalar()
                sync = (await session.execute(text("PRAGMA synchronous"))).scalar()
                try:
                    await session.execute(text("INSERT INTO t VALUES (1)"))
                    refused = "no"
                except Exception as exc:  # the reader must refuse writes
                    refused = type(exc).__name__
            return mode, fks, sync, refused
        finally:
            await db.close()

    mode, fks, sync, refused = asyncio.run(scenario())
    assert mode == "wal"
    assert fks == 1
    assert sync == 1  # NORMAL
    assert refused == "OperationalError"


def test_the_writer_has_a_larger_page_cache_than_the_readers(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        db = SqliteDatabase(tmp_path / "x.db")
        try:
            async with db.write() as session:
                writer = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
            async with db.read() as session:
                reader = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
            return writer, reader
        finally:
            await db.close()

    writer, reader = asyncio.run(scenario())
    assert writer == -WRITER_CACHE_KIB  # negative: KiB, not pages
    assert reader == -2000  # SQLite's default


def test_writes_are_serialised_through_one_connection(tmp_path: Path) -> None:
    async def scenario() -> int:
        db = SqliteDatabase(tmp_path / "x.db")
        try:
            async with db.write() as session:
                await session.execute(text("CREATE TABLE t (n INTEGER)"))

            async def add(n: int) -> None:
                async with db.write() as session:
                    await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

            await asyncio.gather(*(add(n) for n in range(50)))
            assert db.writer_engine.pool.size() == 1
            async with db.read() as session:
                return int((await session.execute(text("SELECT count(*) FROM t"))).scalar() or 0)
        finally:
            await db.close()

    assert asyncio.run(scenario()) == 50


def test_read_in_thread_reads_committed_rows_read_only_with_the_callers_context(tmp_path: Path) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    async def scenario() -> tuple[list[int], str, str]:
        db = SqliteDatabase(tmp_path / "x.db")
        try:
            async with db.write() as session:
                await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
                await session.execute(text("INSERT INTO t VALUES (1), (2)"))
            request_id.set("r-1")

            def read(connection: Connection) -> tuple[list[int], str, str]:
                ids = list(connection.execute(text("SELECT id FROM t ORDER BY id")).scalars())
                try:
                    connection.execute(text("INSERT INTO t VALUES (3)"))
                    refused = "no"
                except Exception as exc:  # the reader must refuse writes
                    refused = type(exc).__name__
                return ids, refused, request_id.get("none")

            return await db.read_in_thread(read)
        finally:
            await db.close()

    ids, refused, seen_id = asyncio.run(scenario())
    assert ids == [1, 2]
    assert refused == "OperationalError"
    assert seen_id == "r-1"
