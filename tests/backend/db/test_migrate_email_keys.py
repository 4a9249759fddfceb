"""Migration 0004: existing email keys recomputed in NFKC + casefold; colliding users both kept, and logged."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend.datadir import DataDir
from backend.db.migrate import alembic_config, upgrade_database

NOW = "2026-11-01 00:00:00.000000"


def database_at(paths: DataDir, revision: str) -> None:
    paths.ensure()
    engine = create_engine(f"sqlite:///{paths.database}", poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def add_user(db: sqlite3.Connection, user_id: str, email: str) -> None:
    db.execute(
        "INSERT INTO users (id, email, email_key, display_name, password_hash, is_active, created_at, updated_at,"
        " password_changed_at) VALUES (?, ?, ?, ?, 'x', 1, ?, ?, ?)",
        (user_id, email, email.strip().lower(), user_id, NOW, NOW, NOW),
    )


def test_keys_are_recomputed_and_colliding_users_are_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = DataDir(tmp_path / "data")
    database_at(paths, "0002")
    with closing(sqlite3.connect(paths.database)) as db, db:
        add_user(db, "precomposed", "jos\u00e9@example.org")
        add_user(db, "combining", "jose\u0301@example.org")
        add_user(db, "fullwidth", "\uff22\uff2f\uff22@example.org")
        add_user(db, "sharp-s", "Stra\u00dfe@example.org")
        add_user(db, "plain", "Carol@Example.org")
    with caplog.at_level(logging.WARNING, logger="outpost.migrate"):
        upgrade_database(paths)
    with closing(sqlite3.connect(paths.database)) as db:
        rows = {row[0]: (row[1], row[2]) for row in db.execute("SELECT id, email, email_key FROM users")}
    assert rows["fullwidth"] == ("BOB@example.org", "bob@example.org")
    assert rows["sharp-s"] == ("Stra\u00dfe@example.org", "strasse@example.org")
    assert rows["plain"] == ("Carol@Example.org", "carol@example.org")
    # The two spellings of josé collide: both stay, as they were, and the collision is logged.
    assert rows["precomposed"] == ("jos\u00e9@example.org", "jos\u00e9@example.org")
    assert rows["combining"] == ("jose\u0301@example.org", "jose\u0301@example.org")
    warnings = [record.getMessage() for record in caplog.records if record.name == "outpost.migrate"]
    assert len(warnings) == 1
    assert "combining" in warnings[0]
    assert "precomposed" in warnings[0]
