"""Carrying out a schema plan on a record table, inside the caller's writer transaction.

ADD/RENAME/DROP COLUMN and CREATE/DROP INDEX where the engine can alter in place; a rebuild (new
table from record_table(), INSERT…SELECT with conversion, drop, rename, indexes) when a column's SQL
type changes, which SQLite cannot ALTER. The caller holds the writer with foreign keys off for a
rebuild (backend/db/schema_writes.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, MetaData, Table, insert, literal, null, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateIndex, CreateTable, DropIndex, DropTable

from backend.collections.definition import CollectionDef, FieldDef
from backend.collections.retypes import converted
from backend.collections.schema_changes import SchemaPlan
from backend.collections.tables import SYSTEM_COLUMNS, column_type, record_table
from backend.collections.values import check_value

REBUILD_SUFFIX = "__rebuild"


def stored_default(spec: FieldDef) -> Any:
    """The field's default as its column keeps it (a date default is a date, not its ISO text)."""
    return check_value(spec, spec.default)[0]


def _quote(connection: AsyncConnection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


async def create_table(connection: AsyncConnection, definition: CollectionDef) -> None:
    """The record table and its indexes."""
    await connection.run_sync(record_table(definition).create)


async def drop_table(connection: AsyncConnection, definition: CollectionDef) -> None:
    """The record table, its indexes and every record."""
    await connection.execute(DropTable(record_table(definition), if_exists=True))


async def apply_plan(connection: AsyncConnection, plan: SchemaPlan) -> None:
    """Alter the table from plan.old to plan.new, keeping every record."""
    if plan.rebuild:
        await _rebuild(connection, plan)
    else:
        await _alter(connection, plan)


async def _alter(connection: AsyncConnection, plan: SchemaPlan) -> None:
    old_table, new_table = record_table(plan.old), record_table(plan.new)
    table = _quote(connection, new_table.name)
    old_indexes = {index.name: index for index in old_table.indexes}
    new_indexes = {index.name: index for index in new_table.indexes}
    # Indexes first: SQLite refuses to DROP COLUMN an indexed column. Names go by field id, so a
    # renamed field keeps its index, and an index whose kind changed (ix -> ux) has another name.
    for name in old_indexes.keys() - new_indexes.keys():
        await connection.execute(DropIndex(old_indexes[name]))
    for spec in plan.dropped:
        await connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {_quote(connection, spec.name)}"))
    # Two steps, so that names may swap (a -> b, b -> a) without colliding.
    for before, after in plan.renamed:
        step = _quote(connection, f"_rename_{after.id}")
        await connection.execute(text(f"ALTER TABLE {table} RENAME COLUMN {_quote(connection, before.name)} TO {step}"))
    for _before, after in plan.renamed:
        step = _quote(connection, f"_rename_{after.id}")
        await connection.execute(text(f"ALTER TABLE {table} RENAME COLUMN {step} TO {_quote(connection, after.name)}"))
    for spec in plan.added:
        sql_type = column_type(spec).compile(dialect=connection.dialect)
        await connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {_quote(connection, spec.name)} {sql_type}"))
        if spec.default is not None:
            column = new_table.c[spec.name]
            await connection.execute(update(new_table).values({column: literal(stored_default(spec), column.type)}))
    for _before, after, rule in plan.retyped:
        if rule.convert is not None:  # same SQL type, other stored form (a select's value becomes a list)
            column = new_table.c[after.name]
            await connection.execute(update(new_table).values({column: converted(rule, column)}))
    for name in new_indexes.keys() - old_indexes.keys():
        await connection.execute(CreateIndex(new_indexes[name]))


def _copied(plan: SchemaPlan, old_table: Table, new_table: Table) -> list[ColumnElement[Any]]:
    """For each new column, in order, the expression over the old table giving its value."""
    rules = {after.id: rule for _before, after, rule in plan.retyped}
    values: list[ColumnElement[Any]] = [old_table.c[name] for name in SYSTEM_COLUMNS]
    for spec in plan.new.fields:
        before = plan.old.field_by_id(spec.id)
        if before is None:
            column = new_table.c[spec.name]
            values.append(literal(stored_default(spec), column.type) if spec.default is not None else null())
        elif spec.id in rules:
            values.append(converted(rules[spec.id], old_table.c[before.name]))
        else:
            values.append(old_table.c[before.name])
    return values


async def _rebuild(connection: AsyncConnection, plan: SchemaPlan) -> None:
    old_table, new_table = record_table(plan.old), record_table(plan.new)
    building = new_table.to_metadata(MetaData(), name=new_table.name + REBUILD_SUFFIX)
    await connection.execute(CreateTable(building))  # the table alone; indexes come after the copy
    names = [column.name for column in new_table.columns]
    copy = insert(building).from_select(names, select(*_copied(plan, old_table, new_table)))
    await connection.execute(copy)
    await connection.execute(DropTable(old_table))  # its indexes go with it
    await connection.execute(
        text(f"ALTER TABLE {_quote(connection, building.name)} RENAME TO {_quote(connection, new_table.name)}")
    )
    for index in new_table.indexes:
        await connection.execute(CreateIndex(index))
