"""Saved settings keep their JSON type in storage, old numeric rows are repaired, a bad row never stops a start."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic import command
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend.app import create_app
from backend.datadir import DataDir
from backend.db.migrate import alembic_config, upgrade_database
from backend.db.sqlite import configure_sqlite_engine
from backend.settings import Settings
from backend.startup import prepare_data_dir
from backend.system.saved_settings import read_saved_settings
from tests.conftest import TEST_HOST, sign_in_first_admin

STAMP = "2026-11-30 12:00:00.000000"


def by_name(items: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(item["name"]): item for item in items}


def migrate_to(paths: DataDir, revision: str) -> None:
    """The database at an older revision, as an older Outpost left it."""
    engine = create_engine(f"sqlite:///{paths.database}", poolclass=NullPool)
    configure_sqlite_engine(engine, synchronous="FULL", begin="BEGIN IMMEDIATE", foreign_keys=False)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def save_raw(paths: DataDir, key: str, value: str) -> None:
    with closing(sqlite3.connect(paths.database)) as db:
        db.execute(
            "INSERT OR REPLACE INTO saved_settings (key, value, updated_at) VALUES (?, ?, ?)", (key, value, STAMP)
        )
        db.commit()


def test_integer_settings_survive_a_restart(client: TestClient[Litestar], settings: Settings) -> None:
    saved = client.patch("/api/v1/settings", json={"max_body_bytes": 20_000_000, "rate_limit_per_minute": 1234})
    assert saved.status_code == 200, saved.text
    assert read_saved_settings(settings).values == {
        "max_body_bytes": 20_000_000,
        "rate_limit_per_minute": 1234,
    }
    restarted = prepare_data_dir(settings).settings
    assert (restarted.max_body_bytes, restarted.rate_limit_per_minute) == (20_000_000, 1234)
    assert restarted.sources["max_body_bytes"] == "saved"


def test_the_migration_repairs_numbers_stored_by_an_older_version(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    migrate_to(paths, "0002")
    save_raw(paths, "max_body_bytes", "20000000")  # what `outpost settings set` wrote before the fix
    save_raw(paths, "log_level", '"DEBUG"')
    with closing(sqlite3.connect(paths.database)) as db:
        assert db.execute("SELECT typeof(value) FROM saved_settings WHERE key = 'max_body_bytes'").fetchone() == (
            "integer",
        )
    upgrade_database(paths)
    with closing(sqlite3.connect(paths.database)) as db:
        assert {row[0] for row in db.execute("SELECT typeof(value) FROM saved_settings")} == {"text"}
    assert read_saved_settings(Settings(data_dir=paths.root)).values == {
        "max_body_bytes": 20_000_000,
        "log_level": "DEBUG",
    }


def test_a_saved_setting_that_cannot_be_read_is_reported_and_ignored(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    prepare_data_dir(settings)
    save_raw(settings.paths, "rate_limit_per_minute", "not json {")
    save_raw(settings.paths, "log_level", '"LOUD"')
    save_raw(settings.paths, "sqlite_synchronous", '"NORMAL"')
    with caplog.at_level(logging.WARNING):
        prepared = prepare_data_dir(settings).settings
    assert (prepared.rate_limit_per_minute, prepared.log_level) == (6000, "INFO")  # the defaults
    assert prepared.sqlite_synchronous == "NORMAL"  # a good row next to bad ones still applies
    warned = "\n".join(record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)
    assert "rate_limit_per_minute" in warned
    assert "log_level" in warned

    with TestClient(create_app(prepared), base_url=f"http://{TEST_HOST}") as client:
        client.headers.update(sign_in_first_admin(client))
        items = by_name(client.get("/api/v1/settings").json()["items"])
    assert items["log_level"]["saved"] is None
    assert "LOUD" in str(items["log_level"]["saved_error"])
    assert items["rate_limit_per_minute"]["saved_error"]
    assert items["sqlite_synchronous"]["saved_error"] is None
