"""Migration 0007: the change log and sync state tables, up and down and up again."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend.datadir import DataDir
from backend.db.migrate import alembic_config, current_revision, upgrade_database

REVISION = "0007"


def migrate(paths: DataDir, direction: str, revision: str) -> None:
    engine = create_engine(f"sqlite:///{paths.database}", poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)
    finally:
        engine.dispose()


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}


def test_change_log_tables_come_and_go(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "data").ensure()
    upgrade_database(paths)
    ours = {"changes", "sync_state", "ix_changes_unpushed_record"}
    assert ours <= tables(paths.database)

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    migrate(paths, "downgrade", previous)
    assert current_revision(paths.database) == previous
    assert not ours & tables(paths.database)

    migrate(paths, "upgrade", REVISION)
    assert ours <= tables(paths.database)


def test_change_log_shape(tmp_path: Path) -> None:
    paths = DataDir(tmp_path / "data").ensure()
    upgrade_database(paths)
    with closing(sqlite3.connect(paths.database)) as db:
        columns = {row[1]: (row[2], row[3]) for row in db.execute("PRAGMA table_info(changes)")}
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'changes'").fetchone()[0]
        index_sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'ix_changes_unpushed_record'").fetchone()[0]
        db.execute(
            "INSERT INTO changes (change_id, collection_id, collection, record_id, op, fields, schema_version,"
            " base_version, hlc, created_at) VALUES ('x', 'c', 'sites', 'r', 'insert', '1', 1, 0, 'h', 'now')"
        )
        stored = db.execute("SELECT typeof(fields), pushed FROM changes").fetchone()
    assert list(columns) == [
        "seq",
        "change_id",
        "collection_id",
        "collection",
        "record_id",
        "op",
        "fields",
        "schema_version",
        "base_version",
        "hlc",
        "pushed",
        "pushed_at",
        "created_at",
    ]
    assert columns["fields"] == ("TEXT", 1)
    assert "AUTOINCREMENT" in sql
    assert "UNIQUE INDEX" in index_sql
    assert index_sql.endswith("WHERE NOT pushed")
    assert stored == ("text", 0)  # '1' stays text: no numeric affinity on the JSON column
