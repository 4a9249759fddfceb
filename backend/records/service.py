"""Records: create, read, list, change and delete (as tombstones), with the change log in the same transaction.

A write is checked here on the event loop first (`plan_create` and co: the collection's shape, the body's
values; no database), then carried out whole by one synchronous function on the writer connection's
thread (writes.py: `RecordWriter.create_in(session, actor, planned)` and co, through
Database.write_in_thread, where writes queued together share one COMMIT). `create(...)` is the one-record
form; a batch, an idempotency key, the change-log entries and an audit row run in one such trip and
commit or roll back together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from backend.db.engine import Database
from backend.db.ids import new_id
from backend.errors import FieldError, Forbidden, NotFound, ValidationFailed
from backend.http_conditions import etag_of
from backend.observability.audit import Actor
from backend.records.answers import CachedAnswers
from backend.records.collaborators import Catalog, ChangeSink, Clock, Grants
from backend.records.idempotency import IdempotencyKeys, IdempotentRequest, StoredReply
from backend.records.listing import ListQuery, RecordPage, list_page_in
from backend.records.shape import RecordShape, ShapeCache
from backend.records.validation import CheckedBody, Mode, checked_body
from backend.records.writes import PlannedWrite, RecordWriter

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def record_path(collection: str, record_id: str) -> str:
    """Where a record lives in the API."""
    return f"/api/v1/collections/{collection}/records/{record_id}"


def created_reply(collection: str, record: dict[str, Any]) -> StoredReply:
    """The 201 reply to a create."""
    return StoredReply(
        201, record, {"Location": record_path(collection, record["id"]), "ETag": etag_of(record["_rev"])}
    )


class RecordService:
    """The records of every collection."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        changes: ChangeSink,
        cursors: Any,
        idempotency: IdempotencyKeys | None = None,
        answers: CachedAnswers | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.changes = changes
        self.cursors = cursors
        self.idempotency = idempotency or IdempotencyKeys()
        self.answers = answers or CachedAnswers(None)
        self._shapes = ShapeCache()
        self.writer = RecordWriter(catalog, clock, changes, self._shapes)

    async def shape(self, collection: str) -> RecordShape:
        """The collection's shape at its current schema version (NotFound if there is no such collection)."""
        return self._shapes.get(await self.catalog.get(collection), self.catalog.table)

    # Reads ------------------------------------------------------------------------------------------------

    async def get(
        self, actor: Actor, collection: str, record_id: str, *, expand: Sequence[str] = (), grants: Grants | None = None
    ) -> dict[str, Any]:
        """One live record (NotFound for a tombstone), with its relations in expand filled in."""
        shape = await self.shape(collection)
        if not expand:  # the hot path: one precompiled primary-key read, on the loop (Database.rows)
            found = await shape.point_read(self.db.dialect).record(self.db, record_id)
            if found is None:
                raise NotFound(f"No record {record_id} in {shape.definition.name}.")
            return found
        targets = await self._expansion_targets(shape, expand, grants)

        def read_in(connection: Connection) -> dict[str, Any]:
            row = connection.execute(shape.live().where(shape.table.c.id == record_id)).mappings().first()
            if row is None:
                raise NotFound(f"No record {record_id} in {shape.definition.name}.")
            record = shape.record(row)
            _expand_in(connection, [record], targets)
            return record

        async def read() -> dict[str, Any]:
            return await self.db.read_in_thread(read_in)

        key = self.answers.key("get", [shape, *(target for _, target in targets)], record_id, [*expand])
        return await self.answers.read_through(key, shape.definition.name, read)

    async def list(self, actor: Actor, collection: str, query: ListQuery, grants: Grants | None = None) -> RecordPage:
        """A page of live records: filtered, sorted, projected, after a cursor or offset, maybe counted."""
        shape = await self.shape(collection)
        targets = await self._expansion_targets(shape, query.expand, grants)

        def read_in(connection: Connection) -> RecordPage:
            page = list_page_in(connection, shape, query, self.cursors)
            _expand_in(connection, page.items, targets)
            return page

        async def read() -> RecordPage:
            return await self.db.read_in_thread(read_in)

        # The cursor's text goes in the key: a cursor names where a walk stands, and it never changes meaning.
        key = self.answers.key("list", [shape, *(target for _, target in targets)], query)
        return await self.answers.read_through(key, shape.definition.name, read)

    async def _expansion_targets(
        self, shape: RecordShape, names: Sequence[str], grants: Grants | None
    ) -> list[tuple[str, RecordShape]]:
        """Each relation field to expand with its target's shape; 422 for a field that is no relation, 403 unread."""
        targets = []
        for name in names:
            spec = shape.fields.get(name)
            if spec is None or spec.relation is None:
                raise ValidationFailed(
                    "Only relation fields can be expanded.",
                    errors=[FieldError("expand", f"{name} is not a relation field of {shape.definition.name}")],
                )
            target_name = spec.relation.collection
            if grants is not None and not grants.can(f"records:read:{target_name}"):
                raise Forbidden(f"Not allowed: expanding {name} needs the permission records:read:{target_name}.")
            targets.append((name, await self.shape(target_name)))
        return targets

    # Writes, each in a transaction of its own: checked here on the loop, then one trip to the writer ----------

    async def create(
        self, actor: Actor, collection: str, body: Mapping[str, Any], *, idempotent: IdempotentRequest | None = None
    ) -> StoredReply:
        """A new record; the 201 reply (the first one again for a retried Idempotency-Key)."""
        planned = await self.plan_create(collection, body)

        def work(session: Session) -> StoredReply:
            if idempotent and (stored := self.idempotency.replay(session, idempotent)):
                return stored
            reply = created_reply(collection, self.writer.create_in(session, actor, planned))
            if idempotent:
                self.idempotency.store(session, idempotent, reply)
            return reply

        return await self.db.write_in_thread(work)

    async def create_many(self, actor: Actor, collection: str, bodies: Sequence[Mapping[str, Any]]) -> list[str]:
        """New records, all or none, in one transaction; their ids."""
        planned = [await self.plan_create(collection, body) for body in bodies]
        made = await self.db.write_in_thread(lambda session: self.writer.create_all_in(session, actor, planned))
        return [record["id"] for record in made]

    async def update(
        self,
        actor: Actor,
        collection: str,
        record_id: str,
        body: Mapping[str, Any],
        *,
        replace: bool = False,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """The record with body's fields changed (replace: body is the whole record)."""
        planned = await self.plan_update(collection, record_id, body, replace=replace, if_match=if_match)
        return await self.db.write_in_thread(lambda session: self.writer.update_in(session, actor, planned))

    async def delete(self, actor: Actor, collection: str, record_id: str, *, if_match: str | None = None) -> None:
        """Tombstone the record, running the relation rules of the records that point at it."""
        planned = await self.plan_delete(collection, record_id, if_match=if_match)
        await self.db.write_in_thread(lambda session: self.writer.delete_in(session, actor, planned))

    # What a write is, worked out on the loop before its trip (no database but for a refusal's relations) --

    async def plan_create(self, collection: str, body: Mapping[str, Any]) -> PlannedWrite:
        """A create checked against its collection: ValidationFailed here unless only the database can tell."""
        shape = await self.shape(collection)
        record_id = body.get("id")
        if record_id is None:
            record_id = new_id()
        elif not isinstance(record_id, str) or not _UUID.match(record_id):
            raise ValidationFailed(
                "The record is not valid: see errors.", errors=[FieldError("id", "must be a lowercase UUID")]
            )
        return PlannedWrite(shape, record_id, await self._checked(shape, body, Mode.CREATE))

    async def plan_update(
        self,
        collection: str,
        record_id: str,
        body: Mapping[str, Any],
        *,
        replace: bool = False,
        if_match: str | None = None,
    ) -> PlannedWrite:
        """A patch (or with replace, a replacement) checked against its collection."""
        shape = await self.shape(collection)
        if "id" in body and body["id"] != record_id:
            raise ValidationFailed(
                "The record is not valid: see errors.", errors=[FieldError("id", "differs from the record's id")]
            )
        checked = await self._checked(shape, body, Mode.REPLACE if replace else Mode.PATCH)
        return PlannedWrite(shape, record_id, checked, if_match)

    async def plan_delete(self, collection: str, record_id: str, *, if_match: str | None = None) -> PlannedWrite:
        """A delete of a record of collection."""
        return PlannedWrite(await self.shape(collection), record_id, None, if_match)

    async def _checked(self, shape: RecordShape, body: Mapping[str, Any], mode: Mode) -> CheckedBody:
        checked = checked_body(shape, body, mode)
        if checked.errors:  # refused before any write; its relations are looked up too, so every problem is named
            found = self.writer.relation_problem
            await self.db.read_in_thread(lambda connection: checked.valid_values(found(connection)))
        return checked


def _expand_in(
    connection: Connection, records: list[dict[str, Any]], targets: Sequence[tuple[str, RecordShape]]
) -> None:
    """Fill each record's "expand" with the related records of targets (one query per relation field)."""
    for name, target in targets:
        ids = {record[name] for record in records if isinstance(record.get(name), str)}
        found: dict[str, dict[str, Any]] = {}
        if ids:
            rows = connection.execute(target.live().where(target.table.c.id.in_(ids)))
            found = {row["id"]: target.record(row) for row in rows.mappings()}
        for record in records:
            record.setdefault("expand", {})[name] = found.get(record.get(name))  # type: ignore[arg-type]
