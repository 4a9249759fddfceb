"""Migrations: fresh database, no-op at head, backup before upgrading, a newer database refused."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from backend.datadir import DataDir
from backend.db import migrate
from backend.db.migrate import DatabaseTooNew, MigrationError, current_revision, head_revision, upgrade_database

EXTRA_REVISION = '''"""Test-only revision on top of the real head."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("extra", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("extra")
'''


def test_fresh_database_is_migrated_to_head_without_backup(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    result = upgrade_database(paths)
    assert (result.from_revision, result.to_revision, result.backup) == (None, head_revision(), None)
    assert current_revision(paths.database) == head_revision()
    assert list(paths.backups.iterdir()) == []


def test_database_at_head_is_left_alone(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    again = upgrade_database(paths)
    assert not again.changed
    assert again.backup is None


def test_upgrade_backs_up_the_previous_database_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = DataDir(tmp_path / "data").ensure()
    before = upgrade_database(paths).to_revision
    with sqlite3.connect(paths.database) as db:
        db.execute("INSERT INTO saved_settings VALUES ('log_level', '\"DEBUG\"', '2026-01-01')")
    # A newer program: the bundled migrations plus one more revision.
    newer = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, newer)
    (newer / "versions" / "9999_extra.py").write_text(EXTRA_REVISION.format(head=head_revision()))
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", newer)

    result = upgrade_database(paths)

    assert (result.from_revision, result.to_revision) == (before, "9999")
    assert result.backup is not None
    assert result.backup.parent == paths.backups
    with sqlite3.connect(result.backup) as backup:
        assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == (before,)
        assert backup.execute("SELECT key FROM saved_settings").fetchall() == [("log_level",)]
    with sqlite3.connect(paths.database) as db:
        assert db.execute("SELECT count(*) FROM extra").fetchone() == (0,)
        assert db.execute("SELECT key FROM saved_settings").fetchall() == [("log_level",)]


def test_newer_database_is_refused_and_untouched(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    with sqlite3.connect(paths.database) as db:
        db.execute("UPDATE alembic_version SET version_num = 'from-the-future'")
    before = paths.database.read_bytes()
    with pytest.raises(DatabaseTooNew, match="newer Outpost"):
        upgrade_database(paths)
    assert paths.database.read_bytes() == before


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    paths = DataDir(tmp_path).ensure()
    with sqlite3.connect(paths.database) as db:
        db.execute("CREATE TABLE something_else (id INTEGER)")
    with pytest.raises(MigrationError, match="not an Outpost database"):
        upgrade_database(paths)


def test_migrations_create_exactly_the_models_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    import backend.db.migrations.env_models  # noqa: F401  (registers every model)
    from backend.db.base import Base

    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    engine = create_engine(f"sqlite:///{paths.database}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_autogenerate_leaves_collection_tables_alone(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    import backend.db.migrations.env_models  # noqa: F401  (registers every model)
    from backend.collections.definition import CollectionDef, FieldDef, FieldType, new_field_id
    from backend.collections.tables import record_table
    from backend.db.base import Base

    paths = DataDir(tmp_path).ensure()
    upgrade_database(paths)
    engine = create_engine(f"sqlite:///{paths.database}")
    sites = CollectionDef("c1", "sites", (FieldDef(new_field_id(), "code", FieldType.TEXT, unique=True),))
    record_table(sites).create(engine)
    with engine.connect() as connection:
        unfiltered = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        filtered = compare_metadata(
            MigrationContext.configure(connection, opts={"include_object": migrate.include_object}), Base.metadata
        )
    engine.dispose()
    assert any(diff[0] == "remove_table" and diff[1].name == "c_sites" for diff in unfiltered)  # the filter matters
    assert filtered == []
