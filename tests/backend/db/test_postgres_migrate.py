"""Migrations on PostgreSQL: instances starting together migrate once, in turn; a newer database is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from backend.db.factory import migrate, read_at_start
from backend.db.migrate import DatabaseTooNew, MigrationError, head_revision
from backend.db.urls import parse_database_url
from backend.settings import Settings
from tests.postgres import fresh_postgres_database, require_postgres


def revision(settings: Settings) -> str | None:
    return read_at_start(settings, lambda c: c.execute(text("SELECT version_num FROM alembic_version")).scalar())


def test_instances_starting_together_migrate_once_and_agree(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        instances = [Settings(data_dir=tmp_path / f"i{n}", database_url=url) for n in range(3)]
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(migrate, instances))
        assert revision(instances[0]) == head_revision()
        # One migrated from empty; the others, waiting on the lock, found the head already there.
        assert sorted(result.from_revision or "" for result in results) == ["", head_revision(), head_revision()]
        assert all(result.to_revision == head_revision() for result in results)


def test_a_database_from_a_newer_outpost_is_refused(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        settings = Settings(data_dir=tmp_path / "data", database_url=url)
        migrate(settings)
        read_at_start(
            settings, lambda c: (c.execute(text("UPDATE alembic_version SET version_num = '9999'")), c.commit())
        )
        with pytest.raises(DatabaseTooNew, match=r"9999.*newer Outpost") as refused:
            migrate(settings)
        assert "postgresql+asyncpg://" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://outpost:s3cret-pw@127.0.0.1:1/outpost", "Connect call failed"),
        ("postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:5432/no_such_database_here", "does not exist"),
    ],
)
def test_a_database_out_of_reach_is_named_without_its_password(tmp_path: Path, url: str, reason: str) -> None:
    require_postgres()
    with pytest.raises(MigrationError, match="cannot reach the database at") as refused:
        migrate(Settings(data_dir=tmp_path / "data", database_url=parse_database_url(url)))
    assert reason in str(refused.value)
    assert "s3cret-pw" not in str(refused.value)
