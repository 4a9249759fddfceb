"""SQLite's side of backups: a consistent online copy of a database file, and its integrity check."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from backend.datadir import FILE_MODE


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of source at target (owner-only), taken while writers go on.

    SQLite's backup API in one step reads one snapshot: a copy made in several steps starts again
    whenever another connection writes, and under steady writes might never finish.
    """
    partial = target.with_name(target.name + ".part")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)
            # The copy stands alone: one file, no -wal beside it.
            writer.execute("PRAGMA journal_mode=DELETE")
        finally:
            writer.close()
    finally:
        reader.close()
    os.replace(partial, target)


def integrity_problems(path: Path) -> list[str]:
    """What PRAGMA integrity_check finds wrong with the database at path (empty when it is sound)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:  # not a database at all ("file is not a database")
        return [str(exc)]
    finally:
        connection.close()
    return [] if found == ["ok"] else found
