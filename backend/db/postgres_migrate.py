"""Migrations on PostgreSQL: every instance migrates at start, one at a time under an advisory lock."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from backend.datadir import FILE_MODE, DataDir
from backend.db.migrate import (
    DatabaseTooNew,
    MigrationError,
    MigrationResult,
    alembic_config,
    head_revision,
    known_revisions,
)
from backend.db.own_loop import run_in_own_loop
from backend.db.urls import database_url, shown_database_url

log = logging.getLogger("outpost.migrate")
# The advisory lock's key (any 64-bit number the deployment uses for nothing else): "outpost" in ASCII.
MIGRATION_LOCK = 0x6F7574706F7374
PG_DUMP_TIMEOUT_S = 3600


def upgrade_postgres(url: str, paths: DataDir) -> MigrationResult:
    """Bring the PostgreSQL database to the head revision; instances starting together take turns."""
    return run_in_own_loop(_upgrade(url, paths))


async def _upgrade(url: str, paths: DataDir) -> MigrationResult:
    engine = create_async_engine(database_url(url), poolclass=NullPool, hide_parameters=True)
    try:
        await _reachable(engine, url)
        async with engine.connect() as connection:
            # A session-level lock: held across the migrations' own transactions, released below or when the
            # connection drops (an instance killed mid-migration never blocks the others for good).
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.commit()
            try:
                result = await connection.run_sync(_upgrade_locked, url, paths)
                await connection.commit()
                return result
            finally:
                await connection.rollback()  # after a failure: what the failed migration began
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                await connection.commit()
    finally:
        await engine.dispose()


async def _reachable(engine: AsyncEngine, url: str) -> None:
    """Connect once; a database that is down, unknown or refuses the credentials is a MigrationError saying so
    (naming the database without its password), not a traceback."""
    try:
        async with engine.connect():
            pass
    except (OSError, TimeoutError, DBAPIError) as exc:
        cause = getattr(exc, "orig", None) or exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise MigrationError(f"cannot reach the database at {shown_database_url(url)}: {reason}") from None


def _upgrade_locked(connection: Connection, url: str, paths: DataDir) -> MigrationResult:
    current = MigrationContext.configure(connection).get_current_revision()
    connection.rollback()  # the revision's read opened a transaction; the migrations take their own
    where = shown_database_url(url)
    if current is not None and current not in known_revisions():
        raise DatabaseTooNew(
            f"{where} is at schema revision {current}, which this version of Outpost does not know: it was written "
            "by a newer Outpost. Run that version, or restore a backup (pg_restore)."
        )
    head = head_revision()
    if current == head:
        return MigrationResult(current, head, None)
    backup = _dump_before(url, paths, current) if current is not None else None
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return MigrationResult(current, head, backup)


def _dump_before(url: str, paths: DataDir, current: str) -> Path | None:
    """A pg_dump of the database before migrating it, in backups/; None (and a plain warning) without pg_dump."""
    tool = shutil.which("pg_dump")
    if tool is None:
        log.warning(
            "pg_dump is not installed here: no backup of the database was taken before migrating it from %s", current
        )
        return None
    paths.ensure()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = paths.backups / f"pre-migrate-{current}-{stamp}.dump"
    parsed = database_url(url)
    # The password goes by environment, never on a command line (which every user of the machine can read).
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    os.close(descriptor)
    done = subprocess.run(
        [tool, "--format=custom", f"--file={target}", f"--dbname={plain}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=PG_DUMP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        reason = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise MigrationError(f"pg_dump could not back up the database before migrating it: {reason[0]}")
    return target
