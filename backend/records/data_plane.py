"""The data plane of one backend: the collection catalog and service, the record and batch services."""

from __future__ import annotations

from dataclasses import dataclass

from backend.cache import Cache
from backend.collections.catalog import CollectionCatalog
from backend.collections.service import CollectionService
from backend.db.engine import Database
from backend.db.paging import CursorCodec
from backend.observability.audit import AuditTrail
from backend.records.answers import CachedAnswers
from backend.records.batch import BatchService
from backend.records.service import RecordService
from backend.sync.changes import ChangeLog


@dataclass(frozen=True)
class DataPlane:
    """Collections and records over one database, their changes logged, their schema changes audited."""

    catalog: CollectionCatalog
    collections: CollectionService
    records: RecordService
    batch: BatchService

    @classmethod
    async def open(cls, db: Database, audit: AuditTrail, cursors: CursorCodec, cache: Cache | None = None) -> DataPlane:
        """Load the catalog and the clock from db and wire the services (record answers cached in cache)."""
        catalog = CollectionCatalog(db)
        await catalog.load()
        changes = await ChangeLog.open(db)
        answers = CachedAnswers(cache)
        db.after_commit.append(answers.invalidate)
        records = RecordService(db, catalog, changes.clock, changes, cursors, answers=answers)
        return cls(
            catalog=catalog,
            collections=CollectionService(db, catalog, audit, cursors),
            records=records,
            batch=BatchService(records, audit),
        )
