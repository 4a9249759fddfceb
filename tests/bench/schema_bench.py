"""`python -m tests.bench schema [rows]`: how long a schema change holds the one writer on a big collection.

A collection of N rows (1 000 000 by default) with a unique integer field and an indexed text field,
then: a rename (in place), an added field, and a retype integer -> number (a table rebuild with its
indexes); each timed as CollectionService.update, which is what the API runs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from backend.collections.catalog import CollectionCatalog
from backend.collections.definition import FieldDef, FieldType
from backend.collections.service import CollectionService
from backend.datadir import DataDir
from backend.db.ids import new_id
from backend.db.migrate import upgrade_database
from backend.db.paging import CursorCodec
from backend.db.sqlite_database import SqliteDatabase
from backend.observability.audit import Actor, AuditTrail

ACTOR = Actor("system", None, "bench")


def _fill(path: Path, table: str, rows: int) -> None:
    connection = sqlite3.connect(path)
    now = "2026-01-02 03:04:05.000000"
    batch = ((new_id(), now, now, "h", n, f"code-{n % 1000}") for n in range(rows))
    with connection:
        connection.executemany(
            f"INSERT INTO {table} (id, created_at, updated_at, _hlc, _deleted, visits, code)"
            " VALUES (?, ?, ?, ?, 0, ?, ?)",
            batch,
        )
    connection.close()


async def _run(rows: int, directory: Path) -> list[tuple[str, float]]:
    paths = DataDir(directory).ensure()
    upgrade_database(paths)
    db = SqliteDatabase(paths.database)
    cursors = CursorCodec(b"k" * 32)
    catalog = CollectionCatalog(db)
    service = CollectionService(db, catalog, AuditTrail(db, b"a" * 32, paths.audit_anchor, cursors), cursors)
    fields = [
        FieldDef("", "visits", FieldType.INTEGER, unique=True),
        FieldDef("", "code", FieldType.TEXT, indexed=True),
    ]
    sites = (await service.create(ACTOR, name="sites", description="", fields=fields)).definition
    started = time.perf_counter()
    _fill(paths.database, sites.table_name, rows)
    figures = [(f"insert {rows} rows (sqlite3 executemany)", time.perf_counter() - started)]
    visits, code = sites.fields
    steps = [
        ("rename a field (in place)", [visits, replace(code, name="label")]),
        ("add a field (in place)", [visits, replace(code, name="label"), FieldDef("", "note", FieldType.TEXT)]),
    ]
    for label, new_fields in steps:
        started = time.perf_counter()
        changed = await service.update(ACTOR, "sites", fields=new_fields)
        figures.append((label, time.perf_counter() - started))
    current = list(changed.definition.fields)
    current[0] = replace(current[0], type=FieldType.NUMBER)
    preview = await service.preview("sites", fields=current)
    assert preview.plan.rebuild
    started = time.perf_counter()
    view = await service.update(ACTOR, "sites", fields=current)
    figures.append(("retype integer -> number (rebuild, 2 indexes)", time.perf_counter() - started))
    assert view.record_count == rows, view.record_count
    await db.close()
    return figures


def main(args: list[str]) -> int:
    rows = int(args[0]) if args else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        figures = asyncio.run(_run(rows, Path(directory)))
    print(f"schema changes on {rows} rows (SQLite {sqlite3.sqlite_version}, synchronous=FULL)")
    for label, seconds in figures:
        print(f"  {label:<48} {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
