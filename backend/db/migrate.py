"""Alembic migrations: know the head, refuse a newer database, back up, then upgrade."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from backend.datadir import FILE_MODE, DataDir
from backend.db.backups import copy_database
from backend.db.sqlite import configure_sqlite_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class MigrationError(RuntimeError):
    """The database cannot be brought to this program's schema."""


class DatabaseTooNew(MigrationError):
    """The database was written by a newer Outpost than this one."""


@dataclass(frozen=True)
class MigrationResult:
    """What an upgrade did."""

    from_revision: str | None
    to_revision: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate's filter: collection tables (c_<name>) and their indexes belong to the collections service."""
    if type_ == "table":
        return not (name or "").startswith("c_")
    if type_ in {"index", "unique_constraint", "column"}:
        table = getattr(obj, "table", None)
        return not (getattr(table, "name", "") or "").startswith("c_")
    return True


def alembic_config() -> Config:
    """An Alembic config pointing at the bundled migrations (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("no migrations are bundled with this program")
    return head


def known_revisions() -> set[str]:
    """Every revision this program's migrations contain."""
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def current_revision(path: Path) -> str | None:
    """The revision the database file is at; None for a new or empty file."""
    if not path.exists():
        return None
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            if tables:
                raise MigrationError(f"{path} is not an Outpost database (it has no schema revision)")
            return None
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        connection.close()


def check_revision_known(path: Path) -> str | None:
    """The database's revision, refusing one this program does not know."""
    current = current_revision(path)
    if current is not None and current not in known_revisions():
        raise DatabaseTooNew(
            f"{path} is at schema revision {current}, which this version of Outpost does not know: "
            "it was written by a newer Outpost. Run that version, or restore a backup from backups/."
        )
    return current


def backup_database(paths: DataDir, label: str) -> Path:
    """A consistent copy of the database in backups/, owner-only."""
    paths.ensure()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = paths.backups / f"{label}-{stamp}.db"
    copy_database(paths.database, target)
    return target


def upgrade_database(paths: DataDir, *, synchronous: str = "FULL") -> MigrationResult:
    """Bring the database to the head revision, backing it up first if it holds data."""
    current = check_revision_known(paths.database)
    head = head_revision()
    if current == head:
        return MigrationResult(current, head, None)
    backup = backup_database(paths, f"pre-migrate-{current}") if current is not None else None
    # Foreign keys off on the migration connection: a table rebuild's DROP would otherwise
    # cascade. configure_sqlite_engine then runs foreign_key_check before every COMMIT.
    engine = create_engine(f"sqlite:///{paths.database}", poolclass=NullPool)
    configure_sqlite_engine(engine, synchronous=synchronous, begin="BEGIN IMMEDIATE", foreign_keys=False)
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    paths.database.chmod(FILE_MODE)
    return MigrationResult(current, head, backup)
