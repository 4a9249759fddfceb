"""CollectionService: list, read, create, change (with a dry run) and delete collections, each write audited."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from backend.collections.catalog import CollectionCatalog, definition_of, not_found
from backend.collections.ddl import apply_plan, create_table, drop_table
from backend.collections.definition import CollectionDef, FieldDef, name_problem, new_field_id
from backend.collections.definition_rules import definition_errors
from backend.collections.models import CollectionRow
from backend.collections.schema_changes import SchemaPlan, plan_change
from backend.collections.violations import Violation, find_violations
from backend.db.engine import Database
from backend.db.ids import new_id
from backend.db.paging import DEFAULT_LIMIT, CursorCodec, SortKey, keyset_page
from backend.db.schema_writes import schema_write
from backend.db.types import utc_now
from backend.errors import Conflict, FieldError, ValidationFailed
from backend.observability.audit import Actor, AuditEntry, AuditTrail

COLLECTION_ORDER = (SortKey(CollectionRow.name),)


@dataclass(frozen=True)
class CollectionView:
    """A collection and how many live records it holds."""

    definition: CollectionDef
    record_count: int


@dataclass(frozen=True)
class ChangePreview:
    """What a change would do (a dry run): the plan, whether the table is rebuilt, what the records break."""

    plan: SchemaPlan
    violations: list[Violation]


async def _record_count(connection: AsyncConnection, definition: CollectionDef, catalog: CollectionCatalog) -> int:
    table = catalog.table(definition)
    return int(
        (await connection.execute(select(func.count()).select_from(table).where(~table.c._deleted))).scalar_one()
    )


async def _row(session: AsyncSession, name: str) -> CollectionRow:
    row = (await session.scalars(select(CollectionRow).where(CollectionRow.name == name))).first()
    if row is None:
        raise not_found(name)
    return row


async def _names(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(CollectionRow.name))).all())


def _refuse_violations(violations: list[Violation]) -> None:
    if violations:
        total = sum(v.count for v in violations)
        raise Conflict(
            f"The records stored break the new definition ({total} times): see errors and violations.",
            errors=[v.error() for v in violations],
            extra={"violations": [v.to_json() for v in violations]},
        )


class CollectionService:
    """Collections and their record tables; the catalog hears of every committed change."""

    def __init__(self, db: Database, catalog: CollectionCatalog, audit: AuditTrail, cursors: CursorCodec) -> None:
        self.db = db
        self.catalog = catalog
        self.audit = audit
        self.cursors = cursors

    def _after_commit(self, session: AsyncSession, name: str, definition: CollectionDef | None) -> None:
        # Synchronously in COMMIT's wake: no await between the commit and the catalog's change.
        def committed(_session: object) -> None:
            self.catalog.changed(name, definition)

        sa_event.listen(session.sync_session, "after_commit", committed, once=True)

    async def page(
        self, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> tuple[list[CollectionView], str | None]:
        """A page of collections by name, with their live record counts; and the next cursor."""
        async with self.db.read() as session:
            page = await keyset_page(
                session,
                select(CollectionRow),
                keys=COLLECTION_ORDER,
                codec=self.cursors,
                scope="collections",
                limit=limit,
                cursor=cursor,
            )
            connection = await session.connection()
            views = []
            for (row,) in page.rows:
                definition = definition_of(row)
                views.append(CollectionView(definition, await _record_count(connection, definition, self.catalog)))
        return views, page.next_cursor

    async def get(self, name: str) -> CollectionView:
        """One collection with its live record count, or NotFound."""
        definition = await self.catalog.get(name)
        async with self.db.read() as session:
            count = await _record_count(await session.connection(), definition, self.catalog)
        return CollectionView(definition, count)

    async def create(self, actor: Actor, *, name: str, description: str, fields: list[FieldDef]) -> CollectionView:
        """A new collection and its empty record table (fields without an id get one)."""
        if problem := name_problem(name, what="a collection name"):
            raise ValidationFailed("The collection was not created.", errors=[FieldError("name", problem)])
        now = utc_now()
        specs = tuple(spec if spec.id else replace(spec, id=new_field_id()) for spec in fields)
        definition = CollectionDef(new_id(), name, specs, description.strip(), 1, now, now)
        async with schema_write(self.db) as session:
            known = await _names(session)
            if name in known:
                raise Conflict(f"A collection named {name} exists.", errors=[FieldError("name", "is already taken")])
            if errors := definition_errors(specs, known | {name}):
                raise ValidationFailed("The collection was not created: see errors.", errors=errors)
            await session.execute(
                insert(CollectionRow).values(
                    id=definition.id,
                    name=name,
                    description=definition.description,
                    fields=json.dumps(definition.fields_json()),
                    schema_version=1,
                    created_at=now,
                    created_by=actor.label,
                    updated_at=now,
                    updated_by=actor.label,
                )
            )
            await create_table(await session.connection(), definition)
            details = {"schema_version": 1, "fields": [spec.name for spec in specs]}
            await self.audit.append(
                session, AuditEntry("collection.create", actor, target=f"collection:{name}", details=details)
            )
            self._after_commit(session, name, definition)
        return CollectionView(definition, 0)

    @staticmethod
    def _changed_definition(
        old: CollectionDef, description: str | None, fields: list[FieldDef] | None, known: set[str]
    ) -> CollectionDef:
        if fields is None:
            specs = old.fields
        else:
            unknown = [
                FieldError(f"fields[{i}].id", f"{spec.id} is no field of {old.name}; leave id out for a new field")
                for i, spec in enumerate(fields)
                if spec.id and old.field_by_id(spec.id) is None
            ]
            if unknown:
                raise ValidationFailed("The collection was not changed: see errors.", errors=unknown)
            specs = tuple(spec if spec.id else replace(spec, id=new_field_id()) for spec in fields)
            if errors := definition_errors(specs, known):
                raise ValidationFailed("The collection was not changed: see errors.", errors=errors)
        return replace(
            old,
            fields=specs,
            description=old.description if description is None else description.strip(),
            schema_version=old.schema_version + 1,
        )

    async def _plan(
        self,
        session: AsyncSession,
        name: str,
        description: str | None,
        fields: list[FieldDef] | None,
        expected_version: int | None,
    ) -> SchemaPlan:
        old = definition_of(await _row(session, name))
        if expected_version is not None and expected_version != old.schema_version:
            raise Conflict(
                f"{name} is at schema version {old.schema_version}, not {expected_version}: reload it and try again.",
                errors=[FieldError("schema_version", f"is {old.schema_version} now")],
            )
        new = self._changed_definition(old, description, fields, await _names(session))
        connection = await session.connection()
        return plan_change(old, new, connection.dialect)

    async def preview(
        self,
        name: str,
        *,
        description: str | None = None,
        fields: list[FieldDef] | None = None,
        expected_version: int | None = None,
    ) -> ChangePreview:
        """What update() would do, from a read snapshot; nothing changes and the writer is not taken."""
        async with self.db.read() as session:
            plan = await self._plan(session, name, description, fields, expected_version)
            violations = await find_violations(await session.connection(), plan) if not plan.empty else []
        return ChangePreview(plan, violations)

    async def update(
        self,
        actor: Actor,
        name: str,
        *,
        description: str | None = None,
        fields: list[FieldDef] | None = None,
        expected_version: int | None = None,
    ) -> CollectionView:
        """Change the description or fields (in one writer transaction); 409 when the records break the change."""
        async with schema_write(self.db) as session:
            plan = await self._plan(session, name, description, fields, expected_version)
            connection = await session.connection()
            if plan.empty:
                return CollectionView(plan.old, await _record_count(connection, plan.old, self.catalog))
            _refuse_violations(await find_violations(connection, plan))
            await apply_plan(connection, plan)
            now = utc_now()
            new = replace(plan.new, updated_at=now)
            await session.execute(
                update(CollectionRow)
                .where(CollectionRow.id == new.id)
                .values(
                    description=new.description,
                    fields=json.dumps(new.fields_json()),
                    schema_version=new.schema_version,
                    updated_at=now,
                    updated_by=actor.label,
                )
            )
            await self.audit.append(
                session, AuditEntry("collection.update", actor, target=f"collection:{name}", details=plan.details())
            )
            self._after_commit(session, name, new)
            count = await _record_count(connection, new, self.catalog)
        return CollectionView(new, count)

    async def delete(self, actor: Actor, name: str) -> None:
        """The collection, its table and its records; 409 while another collection relates to it."""
        async with schema_write(self.db) as session:
            definition = definition_of(await _row(session, name))
            others = [definition_of(row) for row in (await session.scalars(select(CollectionRow))).all()]
            pointing = sorted(
                f"{other.name}.{spec.name}"
                for other in others
                if other.name != name
                for spec in other.fields
                if spec.relation is not None and spec.relation.collection == name
            )
            if pointing:
                raise Conflict(
                    f"{name} cannot be deleted while relation fields point into it: {', '.join(pointing)}.",
                    extra={"related_fields": pointing},
                )
            await drop_table(await session.connection(), definition)
            await session.execute(delete(CollectionRow).where(CollectionRow.id == definition.id))
            details: dict[str, Any] = {"schema_version": definition.schema_version}
            await self.audit.append(
                session, AuditEntry("collection.delete", actor, target=f"collection:{name}", details=details)
            )
            self._after_commit(session, name, None)
