"""Backups of outpost.db in backups/: taken online, checked, listed, and pruned to the newest few."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backend.datadir import DataDir
from backend.db.backups import copy_database, integrity_problems
from backend.errors import NotFound

KEEP_BACKUPS = 10  # backups taken by hand or on schedule kept; older ones are removed after each new one
_NAME = re.compile(r"^(?P<label>[a-z][a-z0-9-]{0,40}?)-(?P<stamp>\d{8}T\d{6}\d{0,6}Z)\.db$")
PRUNED_LABEL = "backup"  # only these are pruned; copies made before a migration or a restore are kept


class BackupBroken(RuntimeError):
    """A backup failed its integrity check (and was removed)."""


@dataclass(frozen=True)
class BackupInfo:
    """One backup file."""

    name: str
    label: str  # backup, pre-migrate-<revision>, pre-restore
    size_bytes: int
    created_at: datetime


class BackupService:
    """The backups of one data directory."""

    def __init__(self, paths: DataDir, keep: int = KEEP_BACKUPS) -> None:
        self.paths = paths
        self.keep = keep

    def create(self, label: str = PRUNED_LABEL) -> BackupInfo:
        """Copy the database now (writes go on meanwhile), check the copy, prune old ones; the new backup.

        Blocking (a copy of the whole file): run it on a worker thread.
        """
        self.paths.ensure()
        now = datetime.now(UTC)
        target = self.paths.backups / f"{label}-{now.strftime('%Y%m%dT%H%M%S%fZ')}.db"
        copy_database(self.paths.database, target)
        problems = integrity_problems(target)
        if problems:
            target.unlink(missing_ok=True)
            raise BackupBroken(f"the copy failed its integrity check: {'; '.join(problems[:5])}")
        self.prune()
        return self._info(target)

    def list(self) -> list[BackupInfo]:
        """Every backup, newest first."""
        found = [self._info(path) for path in self.paths.backups.glob("*.db") if _NAME.match(path.name)]
        return sorted(found, key=lambda info: (info.created_at, info.name), reverse=True)

    def path_of(self, name: str) -> Path:
        """The file of the backup of that name (NotFound for a name that is no backup here)."""
        if not _NAME.match(name) or not (self.paths.backups / name).is_file():
            raise NotFound(f"No backup {name}.")
        return self.paths.backups / name

    def prune(self) -> list[str]:
        """Remove the oldest backups past the newest keep (only those taken by hand or on schedule); their names."""
        ours = [info for info in self.list() if info.label == PRUNED_LABEL]
        removed = []
        for info in ours[self.keep :]:
            (self.paths.backups / info.name).unlink(missing_ok=True)
            removed.append(info.name)
        return removed

    def _info(self, path: Path) -> BackupInfo:
        match = _NAME.match(path.name)
        assert match is not None
        stamp = match["stamp"]
        moment = datetime.strptime(stamp[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return BackupInfo(path.name, match["label"], path.stat().st_size, moment)
