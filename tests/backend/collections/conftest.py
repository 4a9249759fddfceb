"""A migrated database, the collection service over it, and rows put straight into record tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from backend.collections.catalog import CollectionCatalog
from backend.collections.definition import CollectionDef
from backend.collections.service import CollectionService
from backend.collections.tables import record_table
from backend.datadir import DataDir
from backend.db.factory import open_database
from backend.db.ids import new_id
from backend.db.paging import CursorCodec
from backend.observability.audit import Actor, AuditTrail
from backend.settings import Settings
from tests.postgres import plain_engine

ACTOR = Actor("user", "u1", "admin@example.org", "127.0.0.1")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def paths(engine_settings: Settings) -> DataDir:
    return engine_settings.paths


@pytest.fixture
async def service(engine_settings: Settings, paths: DataDir) -> AsyncIterator[CollectionService]:
    db = open_database(engine_settings)
    cursors = CursorCodec(b"k" * 32)
    catalog = CollectionCatalog(db)
    await catalog.load()
    try:
        yield CollectionService(db, catalog, AuditTrail(db, b"a" * 32, paths.audit_anchor, cursors), cursors)
    finally:
        await db.close()


@pytest.fixture
def sql(engine_settings: Settings) -> Iterator[Engine]:
    """A plain engine on the same database, for putting rows in and looking at the table's shape."""
    engine = plain_engine(engine_settings)
    yield engine
    engine.dispose()


def put_rows(
    engine: Engine, definition: CollectionDef, rows: list[dict[str, Any]], *, deleted: bool = False
) -> list[str]:
    """Insert records with SQL Core through record_table(); their ids."""
    table = record_table(definition)
    ids = []
    with engine.begin() as connection:
        for values in rows:
            record_id = new_id()
            ids.append(record_id)
            system = {"id": record_id, "created_at": NOW, "updated_at": NOW, "_hlc": "h", "_deleted": deleted}
            connection.execute(insert(table).values(**system, **values))
    return ids


def read_rows(engine: Engine, definition: CollectionDef) -> dict[str, dict[str, Any]]:
    """Every row (tombstones too) by id, through the table of definition."""
    table = record_table(definition)
    with engine.connect() as connection:
        return {row.id: dict(row._mapping) for row in connection.execute(select(table))}
