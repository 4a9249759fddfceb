"""Record writes as the writer's thread carries them out: the row, its change-log entry, the relation rules.

Everything here is synchronous and works inside the caller's transaction: a Session that
Database.write_in_thread hands over, where the writes queued together share one COMMIT. What a write is
was worked out before, on the event loop (RecordService.plan_create and co): a PlannedWrite. Every
write ticks the clock into `_hlc` (the record's `_rev` and ETag) and appends its change, fields by field id.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.collections.definition import FieldDef, FieldType, OnDelete
from backend.collections.values import to_api
from backend.db.prepared import run_prepared
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, NotFound, ValidationFailed
from backend.http_conditions import require_match
from backend.observability.audit import Actor
from backend.records.collaborators import Catalog, ChangeSink, Clock
from backend.records.shape import RecordShape, ShapeCache
from backend.records.validation import CheckedBody, RelationCheck

# SQLite names the column ("UNIQUE constraint failed: c_sites.code"); PostgreSQL the index (by field id).
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?:\w+)\.(\w+)")
_KEY = "_key"  # the bound id in an UPDATE's WHERE: field names start with a letter, so no column is called this


@functools.lru_cache(maxsize=256)
def _insert_into(table: Table) -> Insert:
    """INSERT into table, its values given at execution: built and compiled once per table, not per row."""
    return insert(table)


@functools.lru_cache(maxsize=256)
def _update_by_id(table: Table) -> Update:
    """UPDATE one row of table by id (bound as _KEY), its SET columns named by the execution's parameters."""
    return update(table).where(table.c.id == bindparam(_KEY))


class SchemaMoved(Conflict):
    """The collection's schema changed between a write's check and its turn on the writer."""


@dataclass(frozen=True)
class PlannedWrite:
    """A record write checked on the loop, for the writer's thread: which record, and the body (not for delete)."""

    shape: RecordShape
    record_id: str
    body: CheckedBody | None
    if_match: str | None = None


@dataclass(frozen=True)
class Referrer:
    """A relation field of some collection that points into another."""

    shape: RecordShape
    field: FieldDef


class RecordWriter:
    """Creates, changes and tombstones records in the caller's transaction, each change logged with it."""

    def __init__(self, catalog: Catalog, clock: Clock, changes: ChangeSink, shapes: ShapeCache) -> None:
        self.catalog = catalog
        self.clock = clock
        self.changes = changes
        self._shapes = shapes

    def create_in(self, session: Session, actor: Actor, planned: PlannedWrite) -> dict[str, Any]:
        """Create a planned record in session's transaction; the record."""
        shape = self._current(planned.shape)
        assert planned.body is not None
        values = planned.body.valid_values(self.relation_problem(session))
        row, reading = self._new_row(actor, planned.record_id, values)
        self._execute(session, shape, _insert_into(shape.table), row)
        self._log(session, _change(shape, planned.record_id, "insert", _by_id(shape, values), 0, reading))
        return shape.record(row)

    def create_all_in(self, session: Session, actor: Actor, planned: Sequence[PlannedWrite]) -> list[dict[str, Any]]:
        """Create planned records of one collection at once (see insert_all_in); the records as the API shows them."""
        if not planned:
            return []
        shape = planned[0].shape
        return [shape.record(row) for row in self.insert_all_in(session, actor, planned)]

    def insert_all_in(self, session: Session, actor: Actor, planned: Sequence[PlannedWrite]) -> list[dict[str, Any]]:
        """Create planned records of one collection at once, in order: one INSERT and one change-log append for all.

        Refuses the lot (ValidationFailed, Conflict, the database's own error) when any record is at fault,
        without saying which: a caller that must name it redoes the records one by one with create_in. The
        rows as stored (an import answers with counts, not records).
        """
        if not planned:
            return []
        shape = self._current(planned[0].shape)
        values = []
        for one in planned:
            assert one.body is not None
            self._current(one.shape)  # records planned on either side of a schema change are refused
            values.append(one.body.valid_values(_no_check))
        self._require_related(session, shape, values)
        rows, changes = [], []
        now = utc_now()  # one transaction, one moment: and each timestamp is then formatted once, not per row
        for one, these in zip(planned, values, strict=True):
            row, reading = self._new_row(actor, one.record_id, these, now)
            rows.append(row)
            changes.append(_change(shape, one.record_id, "insert", _by_id(shape, these), 0, reading, now))
        self._execute(session, shape, _insert_into(shape.table), rows)
        self.changes.append_all_in(session, changes)
        return rows

    def _new_row(
        self, actor: Actor, record_id: str, values: Mapping[str, Any], now: datetime | None = None
    ) -> tuple[dict[str, Any], Any]:
        reading = self.clock.tick()
        now = now or utc_now()
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
        return row, reading

    def _require_related(self, session: Session, shape: RecordShape, values: Sequence[Mapping[str, Any]]) -> None:
        """Every related record the values name is there (one query per relation field), else ValidationFailed."""
        for spec in shape.definition.fields:
            if spec.type is not FieldType.RELATION or spec.relation is None:
                continue
            wanted = {these[spec.name] for these in values if these.get(spec.name) is not None}
            target = self._shape_now(spec.relation.collection) if wanted else None
            found = set()
            if target is not None:
                query = select(target.table.c.id).where(target.table.c.id.in_(wanted), ~target.table.c._deleted)
                found = set(session.execute(query).scalars())
            if wanted - found:
                raise ValidationFailed(
                    "A related record is missing.", errors=[FieldError(spec.name, "names a record that is not there")]
                )

    def update_in(self, session: Session, actor: Actor, planned: PlannedWrite) -> dict[str, Any]:
        """Change a planned record in session's transaction; the record. A change to nothing writes nothing."""
        shape = self._current(planned.shape)
        row = self._row_to_write(session, shape, planned.record_id)
        require_match(planned.if_match, row["_hlc"])
        assert planned.body is not None
        values = planned.body.valid_values(self.relation_problem(session))
        changed = {name: value for name, value in values.items() if row[name] != value}
        if not changed:
            return shape.record(row)
        reading = self._write(session, shape, actor, row, changed)
        self._log(
            session, _change(shape, planned.record_id, "update", _by_id(shape, changed), row["_version"], reading)
        )
        return shape.record({**row, **changed, **self._stamp(actor, reading)})

    def delete_in(self, session: Session, actor: Actor, planned: PlannedWrite) -> None:
        """Tombstone a planned record in session's transaction."""
        shape = self._current(planned.shape)
        row = self._row_to_write(session, shape, planned.record_id)
        require_match(planned.if_match, row["_hlc"])
        self._tombstone(session, actor, shape, row, {(shape.definition.id, planned.record_id)})

    # The parts of a write ---------------------------------------------------------------------------------

    def _current(self, shape: RecordShape) -> RecordShape:
        """shape, if its schema is still the collection's; the catalog changes before the writer is free again."""
        definition = self.catalog.cached(shape.definition.name)
        if definition is None or (definition.id, definition.schema_version) != shape.key:
            raise SchemaMoved(
                f"The collection {shape.definition.name} changed (or went) while this write waited; "
                "nothing was written: send it again."
            )
        return shape

    def _shape_now(self, name: str) -> RecordShape | None:
        definition = self.catalog.cached(name)
        return None if definition is None else self._shapes.get(definition, self.catalog.table)

    def _row_to_write(self, session: Session, shape: RecordShape, record_id: str) -> RowMapping:
        row = session.execute(shape.live().where(shape.table.c.id == record_id)).mappings().first()
        if row is None:
            raise NotFound(f"No record {record_id} in {shape.definition.name}.")
        return row

    def _stamp(self, actor: Actor, reading: Any) -> dict[str, Any]:
        return {"updated_at": utc_now(), "updated_by": actor.label, "_hlc": str(reading), "_origin": reading.node_id}

    def _write(
        self, session: Session, shape: RecordShape, actor: Actor, row: RowMapping, values: Mapping[str, Any]
    ) -> Any:
        reading = self.clock.tick()
        params = {**values, **self._stamp(actor, reading), _KEY: row["id"]}
        self._execute(session, shape, _update_by_id(shape.table), params)
        return reading

    def _execute(self, session: Session, shape: RecordShape, statement: Any, params: Any) -> None:
        try:
            run_prepared(session, statement, params if isinstance(params, list) else [params])
        except IntegrityError as exc:
            raise _unique_conflict(shape, exc) from None

    def _log(self, session: Session, change: dict[str, Any]) -> None:
        """Append one write's change (see _change); the batch form: a write needs no RETURNING of it."""
        self.changes.append_all_in(session, [change])

    def relation_problem(self, reader: Session | Connection) -> RelationCheck:
        """Whether a related record is there, looked up through reader (the write's session, or a point read)."""

        def problem(spec: FieldDef, related_id: str) -> str | None:
            assert spec.relation is not None
            target = self._shape_now(spec.relation.collection)
            if target is None:
                return f"points into {spec.relation.collection}, which no longer exists"
            query = select(target.table.c.id).where(target.table.c.id == related_id, ~target.table.c._deleted)
            if reader.execute(query).first() is None:
                return f"no record {related_id} in {spec.relation.collection}"
            return None

        return problem

    def _referrers(self, shape: RecordShape) -> list[Referrer]:
        found = []
        for definition in self.catalog.all():
            for spec in definition.fields:
                if (
                    spec.type is FieldType.RELATION
                    and spec.relation
                    and spec.relation.collection == shape.definition.name
                ):
                    found.append(Referrer(self._shapes.get(definition, self.catalog.table), spec))
        return found

    def _tombstone(
        self, session: Session, actor: Actor, shape: RecordShape, row: RowMapping, doomed: set[tuple[str, str]]
    ) -> None:
        """Run the on-delete rules (restrict first, so nothing is half done), then tombstone row."""
        record_id = row["id"]
        referrers = self._referrers(shape)
        for referrer in referrers:
            if referrer.field.relation and referrer.field.relation.on_delete is OnDelete.RESTRICT:
                table = referrer.shape.table
                query = referrer.shape.live([func.count()]).where(
                    table.c[referrer.field.name] == record_id, table.c.id != record_id
                )
                count = session.execute(query).scalar_one()
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
        reading = self._write(session, shape, actor, row, {"_deleted": True})
        self._log(session, _change(shape, record_id, "delete", {}, row["_version"], reading))
        for referrer in referrers:
            rule = referrer.field.relation.on_delete if referrer.field.relation else None
            if rule is OnDelete.RESTRICT:
                continue
            table = referrer.shape.table
            rows = session.execute(referrer.shape.live().where(table.c[referrer.field.name] == record_id)).mappings()
            for pointing in list(rows):
                key = (referrer.shape.definition.id, pointing["id"])
                if rule is OnDelete.CASCADE:
                    if key not in doomed:
                        doomed.add(key)
                        self._tombstone(session, actor, referrer.shape, pointing, doomed)
                elif key not in doomed:  # set_null
                    cleared = {referrer.field.name: None}
                    reading = self._write(session, referrer.shape, actor, pointing, cleared)
                    fields = {referrer.field.id: None}
                    self._log(
                        session,
                        _change(referrer.shape, pointing["id"], "update", fields, pointing["_version"], reading),
                    )


def _change(
    shape: RecordShape,
    record_id: str,
    op: str,
    fields: Mapping[str, Any],
    base_version: int,
    reading: Any,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A change-log entry of one write, as the change sink's keyword arguments."""
    return {
        "created_at": at,
        "collection_id": shape.definition.id,
        "collection": shape.definition.name,
        "record_id": record_id,
        "op": op,
        "fields": fields,
        "schema_version": shape.definition.schema_version,
        "base_version": base_version,
        "hlc": reading,
    }


def _no_check(spec: FieldDef, related_id: str) -> str | None:
    return None  # create_all_in looks the relations up all at once


def _by_id(shape: RecordShape, values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as the change log keeps them: by field id, in JSON form."""
    return {shape.fields[name].id: to_api(shape.fields[name], value) for name, value in values.items()}


def _unique_conflict(shape: RecordShape, exc: IntegrityError) -> Conflict:
    message = str(exc.orig)
    name: str | None = None
    if match := _SQLITE_UNIQUE.search(message):
        name = match[1]
    elif f'"{shape.table.name}_pkey"' in message:  # PostgreSQL names the primary key's constraint (its default)
        name = "id"
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
