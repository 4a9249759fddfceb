"""Restoring outpost.db from a backup: checked first, the current database kept as a backup, swapped whole.

The caller holds the data dir's lock with the database closed: the CLI with no backend running, or
`outpost serve` between two runs of its app (an online restore stops serving, restores, serves again on
the same socket, so every cache and connection is rebuilt from the restored file). The cache is emptied,
since its answers were read from the old database. The swap leaves a marker; whoever opens the database
next settles it (settle_restore): jobs the backup caught unfinished are set aside, the audit chain is
anchored at its restored head (the rows after it live on in the copy kept), and the restore is audited.
Access taken away since the backup (a key revoked, a user disabled) stays away: see restore_access.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from backend.datadir import DataDir, write_private_file
from backend.db.backups import copy_database, integrity_problems
from backend.db.migrate import MigrationResult, check_revision_known, upgrade_database
from backend.jobs.queue import JobQueue
from backend.jobs.service import JobService
from backend.observability.audit import Actor, AuditEntry, AuditTrail
from backend.system.backups import BackupBroken, BackupService
from backend.system.restore_access import carry_access_forward

logger = structlog.get_logger("outpost.restore")
SET_ASIDE = "cancelled: the database was restored from a backup taken before this job ended"
# A backup job is running in its own copy: in the restored database it may be the very one that made it.
SET_ASIDE_BACKUP = "cancelled by the restore: the copy was taken while this backup ran (see the Backups list)"


class RestoreRefused(RuntimeError):
    """The file cannot be restored (not an Outpost database, damaged, or from a newer Outpost)."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    restored_from: Path
    previous: Path | None  # the database as it was, kept in backups/
    migration: MigrationResult


@dataclass(frozen=True)
class RestoreRequest:
    """A restore asked of the serving backend, carried out between two runs of its app."""

    source: Path
    actor: Actor


def check_restorable(source: Path) -> None:
    """Raise RestoreRefused unless source is a sound Outpost database this version can open."""
    if not source.is_file():
        raise RestoreRefused(f"{source.name} is not a file")
    if problems := integrity_problems(source):
        raise RestoreRefused(f"{source.name} fails its integrity check: {'; '.join(problems[:3])}")
    try:
        check_revision_known(source)
    except Exception as exc:  # not an Outpost database, or one from a newer version
        raise RestoreRefused(str(exc)) from exc


def restore_database(paths: DataDir, source: Path, actor: Actor, *, synchronous: str = "FULL") -> RestoreResult:
    """Replace the database with the backup at source; the caller holds the data dir's lock, the database closed."""
    check_restorable(source)
    staged = paths.database.with_name(paths.database.name + ".restoring")
    try:
        previous = BackupService(paths).create("pre-restore") if paths.database.exists() else None
        copy_database(source, staged)  # a clean single file, even if source had a -wal beside it
    except (OSError, sqlite3.Error, BackupBroken) as exc:  # a full disk, say: nothing was swapped yet
        staged.unlink(missing_ok=True)
        raise RestoreRefused(f"the copies could not be made: {exc}") from exc
    for suffix in ("-wal", "-shm"):  # the old log would be replayed onto the restored file
        paths.database.with_name(paths.database.name + suffix).unlink(missing_ok=True)
    os.replace(staged, paths.database)
    _write_marker(paths, source, actor, previous=previous.name if previous else None)
    migration = upgrade_database(paths, synchronous=synchronous)
    if previous is not None:  # the two at the same schema now: access taken away since the backup stays away
        carried = carry_access_forward(paths.database, paths.backups / previous.name)
        _write_marker(paths, source, actor, previous=previous.name, access_carried=carried)
    if paths.cache.exists():
        shutil.rmtree(paths.cache)
    paths.ensure()
    return RestoreResult(source, paths.backups / previous.name if previous else None, migration)


def record_failed_restore(paths: DataDir, request: RestoreRequest, reason: str) -> None:
    """A restore that was refused after it was asked for: the next opener audits the failure."""
    _write_marker(paths, request.source, request.actor, failed=reason)


def _write_marker(paths: DataDir, source: Path, actor: Actor, **facts: object) -> None:
    marker = {"source": source.name, "actor": asdict(actor), "at": datetime.now(UTC).isoformat(), **facts}
    write_private_file(paths.restore_marker, json.dumps(marker).encode())


async def settle_restore(paths: DataDir, audit: AuditTrail, jobs: JobService, queue: JobQueue) -> bool:
    """Finish a restore this database went through, if any (see the module's docstring); whether one was settled."""
    marker = _read_marker(paths.restore_marker)
    if marker is None:
        return False
    source, actor = marker.get("source"), _actor(marker.get("actor"))
    if failed := marker.get("failed"):
        await audit.record(AuditEntry("backup.restore", actor, "failure", source, {"reason": str(failed)[:500]}))
        paths.restore_marker.unlink(missing_ok=True)
        return False
    await asyncio.to_thread(queue.flush)  # hand-overs of jobs of the database set aside
    set_aside = await jobs.set_aside_unfinished(SET_ASIDE, {"backup": SET_ASIDE_BACKUP})
    await audit.anchor_at_head()
    previous = marker.get("previous")
    details = {
        "previous": previous,
        "jobs_set_aside": set_aside,
        "restored_at": marker.get("at"),
        "access_carried": marker.get("access_carried", {}),
    }
    await audit.record(AuditEntry("backup.restore", actor, target=source, details=details))
    paths.restore_marker.unlink(missing_ok=True)
    logger.info("database restored", source=source, previous=previous, jobs_set_aside=set_aside)
    return True


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:  # torn: the restore happened all the same, only who asked is lost
        return {}
    return found if isinstance(found, dict) else {}


def _actor(found: Any) -> Actor:
    if isinstance(found, dict) and isinstance(found.get("label"), str):
        return Actor(str(found.get("type") or "system"), found.get("id"), found["label"], found.get("client"))
    return Actor("system", None, "restore")
