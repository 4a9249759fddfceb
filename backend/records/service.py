"""Records: create, read, list, change and delete (as tombstones), with the change log in the same transaction.

Each write has two forms: `create(...)` opens its own writer transaction; `create_in(session, ...)` works
inside the caller's, so a batch, an idempotency key, the change-log entries and an audit row commit or
roll back together. Every write ticks the clock into `_hlc` (the record's `_rev` and ETag) and appends
its change, fields by field id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.collections.definition import FieldDef, FieldType, OnDelete
from backend.collections.values import to_api
from backend.db.engine import Database
from backend.db.ids import new_id
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from backend.http_conditions import etag_of, require_match
from backend.observability.audit import Actor
from backend.records.answers import CachedAnswers
from backend.records.collaborators import Catalog, ChangeSink, Clock, Grants
from backend.records.idempotency import IdempotencyKeys, IdempotentRequest, StoredReply
from backend.records.listing import ListQuery, RecordPage, list_page
from backend.records.shape import RecordShape, ShapeCache
from backend.records.validation import Mode, validated_values

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# SQLite names the column ("UNIQUE constraint failed: c_sites.code"); PostgreSQL the index (by field id).
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:\w+)\.(\w+)")


def record_path(collection: str, record_id: str) -> str:
    """Where a record lives in the API."""
    return f"/api/v1/collections/{collection}/records/{record_id}"


def created_reply(collection: str, record: dict[str, Any]) -> StoredReply:
    """The 201 reply to a create."""
    return StoredReply(
        201, record, {"Location": record_path(collection, record["id"]), "ETag": etag_of(record["_rev"])}
    )


@dataclass(frozen=True)
class Referrer:
    """A relation field of some collection that points into another."""

    shape: RecordShape
    field: FieldDef


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

    async def shape(self, collection: str) -> RecordShape:
        """The collection's shape at its current schema version (NotFound if there is no such collection)."""
        return self._shapes.get(await self.catalog.get(collection), self.catalog.table)

    # Reads ------------------------------------------------------------------------------------------------

    async def get(
        self, actor: Actor, collection: str, record_id: str, *, expand: Sequence[str] = (), grants: Grants | None = None
    ) -> dict[str, Any]:
        """One live record (NotFound for a tombstone), with its relations in expand filled in."""
        shape = await self.shape(collection)
        if not expand:  # the hot path: one precompiled primary-key read, on the loop (Database.rows_now)
            found = shape.point_read(self.db.point_engine.dialect).record(self.db, record_id)
            if found is None:
                raise NotFound(f"No record {record_id} in {shape.definition.name}.")
            return found
        targets = await self._expansion_targets(shape, expand, grants)

        async def read() -> dict[str, Any]:
            async with self.db.read() as session:
                record = shape.record(await self._live_row(session, shape, record_id))
                await self._expand(session, [record], targets)
            return record

        key = self.answers.key("get", [shape, *(target for _, target in targets)], record_id, [*expand])
        return await self.answers.read_through(key, shape.definition.name, read)

    async def list(self, actor: Actor, collection: str, query: ListQuery, grants: Grants | None = None) -> RecordPage:
        """A page of live records: filtered, sorted, projected, after a cursor or offset, maybe counted."""
        shape = await self.shape(collection)
        targets = await self._expansion_targets(shape, query.expand, grants)

        async def read() -> RecordPage:
            async with self.db.read() as session:
                page = await list_page(session, shape, query, self.cursors)
                await self._expand(session, page.items, targets)
            return page

        # The cursor's text goes in the key: a cursor names where a walk stands, and it never changes meaning.
        key = self.answers.key("list", [shape, *(target for _, target in targets)], query)
        return await self.answers.read_through(key, shape.definition.name, read)

    async def _live_row(self, session: AsyncSession, shape: RecordShape, record_id: str) -> RowMapping:
        row = (await session.execute(shape.live().where(shape.table.c.id == record_id))).mappings().first()
        if row is None:
            raise NotFound(f"No record {record_id} in {shape.definition.name}.")
        return row

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

    async def _expand(
        self, session: AsyncSession, records: list[dict[str, Any]], targets: Sequence[tuple[str, RecordShape]]
    ) -> None:
        for name, target in targets:
            ids = {record[name] for record in records if isinstance(record.get(name), str)}
            found: dict[str, dict[str, Any]] = {}
            if ids:
                rows = await session.execute(target.live().where(target.table.c.id.in_(ids)))
                found = {row["id"]: target.record(row) for row in rows.mappings()}
            for record in records:
                record.setdefault("expand", {})[name] = found.get(record.get(name))  # type: ignore[arg-type]

    # Writes, each in a transaction of its own --------------------------------------------------------------

    async def create(
        self, actor: Actor, collection: str, body: Mapping[str, Any], *, idempotent: IdempotentRequest | None = None
    ) -> StoredReply:
        """A new record; the 201 reply (the first one again for a retried Idempotency-Key)."""
        async with self.db.write() as session:
            if idempotent and (stored := await self.idempotency.replay(session, idempotent)):
                return stored
            reply = created_reply(collection, await self.create_in(session, actor, collection, body))
            if idempotent:
                await self.idempotency.store(session, idempotent, reply)
        return reply

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
        async with self.db.write() as session:
            return await self.update_in(session, actor, collection, record_id, body, replace=replace, if_match=if_match)

    async def delete(self, actor: Actor, collection: str, record_id: str, *, if_match: str | None = None) -> None:
        """Tombstone the record, running the relation rules of the records that point at it."""
        async with self.db.write() as session:
            await self.delete_in(session, actor, collection, record_id, if_match=if_match)

    # Writes inside the caller's transaction -----------------------------------------------------------------

    async def create_in(
        self, session: AsyncSession, actor: Actor, collection: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a record in session's transaction; the record."""
        shape = await self.shape(collection)
        record_id = body.get("id")
        if record_id is None:
            record_id = new_id()
        elif not isinstance(record_id, str) or not _UUID.match(record_id):
            raise ValidationFailed(
                "The record is not valid: see errors.", errors=[FieldError("id", "must be a lowercase UUID")]
            )
        values = await validated_values(shape, body, Mode.CREATE, self._relation_checker(session))
        reading = self.clock.tick()
        now = utc_now()
        row = {
            "id": record_id,
            "created_at": now,
            "updated_at": now,
            "created_by": actor.label,
            "updated_by": actor.label,
            "_version": 0,
            "_hlc": str(reading),
            "_origin": reading.node_id,
            "_deleted": False,
            **values,
        }
        await self._execute(session, shape, insert(shape.table).values(**row))
        await self._log(session, shape, record_id, "insert", _by_id(shape, values), 0, reading)
        return shape.record(row)

    async def update_in(
        self,
        session: AsyncSession,
        actor: Actor,
        collection: str,
        record_id: str,
        body: Mapping[str, Any],
        *,
        replace: bool = False,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """Change a record in session's transaction; the record. A change to nothing writes nothing."""
        shape = await self.shape(collection)
        row = await self._live_row(session, shape, record_id)
        require_match(if_match, row["_hlc"])
        if "id" in body and body["id"] != record_id:
            raise ValidationFailed(
                "The record is not valid: see errors.", errors=[FieldError("id", "differs from the record's id")]
            )
        mode = Mode.REPLACE if replace else Mode.PATCH
        values = await validated_values(shape, body, mode, self._relation_checker(session))
        changed = {name: value for name, value in values.items() if row[name] != value}
        if not changed:
            return shape.record(row)
        reading = await self._write(session, shape, actor, row, changed)
        await self._log(session, shape, record_id, "update", _by_id(shape, changed), row["_version"], reading)
        return shape.record({**row, **changed, **self._stamp(actor, reading)})

    async def delete_in(
        self, session: AsyncSession, actor: Actor, collection: str, record_id: str, *, if_match: str | None = None
    ) -> None:
        """Tombstone a record in session's transaction."""
        shape = await self.shape(collection)
        row = await self._live_row(session, shape, record_id)
        require_match(if_match, row["_hlc"])
        await self._tombstone(session, actor, shape, row, {(shape.definition.id, record_id)})

    # The parts of a write ---------------------------------------------------------------------------------

    def _stamp(self, actor: Actor, reading: Any) -> dict[str, Any]:
        return {"updated_at": utc_now(), "updated_by": actor.label, "_hlc": str(reading), "_origin": reading.node_id}

    async def _write(
        self, session: AsyncSession, shape: RecordShape, actor: Actor, row: RowMapping, values: Mapping[str, Any]
    ) -> Any:
        reading = self.clock.tick()
        statement = update(shape.table).where(shape.table.c.id == row["id"])
        await self._execute(session, shape, statement.values(**values, **self._stamp(actor, reading)))
        return reading

    async def _execute(self, session: AsyncSession, shape: RecordShape, statement: Any) -> None:
        try:
            await session.execute(statement)
        except IntegrityError as exc:
            raise _unique_conflict(shape, exc) from None

    async def _log(
        self,
        session: AsyncSession,
        shape: RecordShape,
        record_id: str,
        op: str,
        fields: Mapping[str, Any],
        base_version: int,
        reading: Any,
    ) -> None:
        await self.changes.append(
            session,
            collection_id=shape.definition.id,
            collection=shape.definition.name,
            record_id=record_id,
            op=op,
            fields=fields,
            schema_version=shape.definition.schema_version,
            base_version=base_version,
            hlc=reading,
        )

    def _relation_checker(self, session: AsyncSession) -> Any:
        async def problem(spec: FieldDef, related_id: str) -> str | None:
            assert spec.relation is not None
            try:
                target = await self.shape(spec.relation.collection)
            except NotFound:
                return f"points into {spec.relation.collection}, which no longer exists"
            query = select(target.table.c.id).where(target.table.c.id == related_id, ~target.table.c._deleted)
            if (await session.execute(query)).first() is None:
                return f"no record {related_id} in {spec.relation.collection}"
            return None

        return problem

    async def _referrers(self, shape: RecordShape) -> list[Referrer]:
        found = []
        for definition in await self.catalog.all():
            for spec in definition.fields:
                if (
                    spec.type is FieldType.RELATION
                    and spec.relation
                    and spec.relation.collection == shape.definition.name
                ):
                    found.append(Referrer(self._shapes.get(definition, self.catalog.table), spec))
        return found

    async def _tombstone(
        self, session: AsyncSession, actor: Actor, shape: RecordShape, row: RowMapping, doomed: set[tuple[str, str]]
    ) -> None:
        """Run the on-delete rules (restrict first, so nothing is half done), then tombstone row."""
        record_id = row["id"]
        referrers = await self._referrers(shape)
        for referrer in referrers:
            if referrer.field.relation and referrer.field.relation.on_delete is OnDelete.RESTRICT:
                table = referrer.shape.table
                query = referrer.shape.live([func.count()]).where(
                    table.c[referrer.field.name] == record_id, table.c.id != record_id
                )
                count = (await session.execute(query)).scalar_one()
                if count:
                    raise Conflict(
                        f"{count} record(s) of {referrer.shape.definition.name} point at this one through "
                        f"{referrer.field.name}, whose rule is restrict: change or delete them first.",
                        extra={
                            "collection": referrer.shape.definition.name,
                            "field": referrer.field.name,
                            "count": count,
                        },
                    )
        reading = await self._write(session, shape, actor, row, {"_deleted": True})
        await self._log(session, shape, record_id, "delete", {}, row["_version"], reading)
        for referrer in referrers:
            rule = referrer.field.relation.on_delete if referrer.field.relation else None
            if rule is OnDelete.RESTRICT:
                continue
            table = referrer.shape.table
            rows = (
                await session.execute(referrer.shape.live().where(table.c[referrer.field.name] == record_id))
            ).mappings()
            for pointing in list(rows):
                key = (referrer.shape.definition.id, pointing["id"])
                if rule is OnDelete.CASCADE:
                    if key not in doomed:
                        doomed.add(key)
                        await self._tombstone(session, actor, referrer.shape, pointing, doomed)
                elif key not in doomed:  # set_null
                    cleared = {referrer.field.name: None}
                    reading = await self._write(session, referrer.shape, actor, pointing, cleared)
                    fields = {referrer.field.id: None}
                    await self._log(
                        session, referrer.shape, pointing["id"], "update", fields, pointing["_version"], reading
                    )


def _by_id(shape: RecordShape, values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as the change log keeps them: by field id, in JSON form."""
    return {shape.fields[name].id: to_api(shape.fields[name], value) for name, value in values.items()}


def _unique_conflict(shape: RecordShape, exc: IntegrityError) -> Conflict:
    message = str(exc.orig)
    name: str | None = None
    if match := _SQLITE_UNIQUE.search(message):
        name = match[1]
    else:
        name = next((spec.name for spec in shape.definition.fields if spec.id in message), None)
    if name == "id":
        return Conflict(
            "A record with this id exists already (perhaps deleted).", errors=[FieldError("id", "is taken")]
        )
    if name is None:
        return Conflict("The write conflicts with another record.")
    return Conflict(
        f"Another record of {shape.definition.name} already has this {name}.",
        errors=[FieldError(name, "must be unique: another record has this value")],
    )
