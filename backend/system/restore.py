"""Restoring outpost.db from a backup: checked first, the current database kept as a backup, swapped whole.

Only with no backend running (the caller holds the data dir's lock): an online restore, with writes and
sync paused, comes with its job. The cache is emptied, since its answers were read from the old database.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from backend.datadir import DataDir
from backend.db.backups import copy_database, integrity_problems
from backend.db.migrate import MigrationResult, check_revision_known, upgrade_database
from backend.system.backups import BackupService


class RestoreRefused(RuntimeError):
    """The file cannot be restored (not an Outpost database, damaged, or from a newer Outpost)."""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    restored_from: Path
    previous: Path | None  # the database as it was, kept in backups/
    migration: MigrationResult


def restore_database(paths: DataDir, source: Path, *, synchronous: str = "FULL") -> RestoreResult:
    """Replace the database with the backup at source; the caller must hold the data dir's lock."""
    if not source.is_file():
        raise RestoreRefused(f"{source} is not a file")
    if problems := integrity_problems(source):
        raise RestoreRefused(f"{source} fails its integrity check: {'; '.join(problems[:3])}")
    try:
        check_revision_known(source)
    except Exception as exc:  # not an Outpost database, or one from a newer version
        raise RestoreRefused(str(exc)) from exc
    previous = BackupService(paths).create("pre-restore") if paths.database.exists() else None
    staged = paths.database.with_name(paths.database.name + ".restoring")
    copy_database(source, staged)  # a clean single file, even if source had a -wal beside it
    for suffix in ("-wal", "-shm"):  # the old log would be replayed onto the restored file
        paths.database.with_name(paths.database.name + suffix).unlink(missing_ok=True)
    os.replace(staged, paths.database)
    migration = upgrade_database(paths, synchronous=synchronous)
    if paths.cache.exists():
        shutil.rmtree(paths.cache)
    paths.ensure()
    return RestoreResult(source, paths.backups / previous.name if previous else None, migration)
