"""A collection's SQL table, built from its definition: system columns, one column per field, indexes.

This is the one place that knows how a record table looks; DDL, the record service and the change log
all take the table from here, so SQLite and PostgreSQL get the same shape.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Index, Integer, MetaData, Table, false
from sqlalchemy.types import TypeEngine

from backend.collections.definition import CollectionDef, FieldDef, FieldType
from backend.db.types import PortableJson, UtcDateTime, code_point_text

# Sync columns of DESIGN.md's sync model, and who/when; records show the first five by these names.
SYSTEM_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "_version",
    "_hlc",
    "_origin",
    "_deleted",
)


def column_type(spec: FieldDef) -> TypeEngine[Any]:
    """The SQL type of a field's column."""
    if spec.holds_json:
        return PortableJson()
    match spec.type:
        case FieldType.INTEGER:
            return BigInteger()
        case FieldType.NUMBER:
            return Float()
        case FieldType.BOOLEAN:
            return Boolean()
        case FieldType.DATE:
            return Date()
        case FieldType.DATETIME:
            return UtcDateTime()
        case _:  # text, email, url, select (one), relation (the related record's id)
            return code_point_text()


def index_name(definition: CollectionDef, spec: FieldDef, *, unique: bool) -> str:
    """A field's index name: by field id, so renaming the field keeps its index."""
    return f"{'ux' if unique else 'ix'}_{definition.table_name}_{spec.id}"


def record_table(definition: CollectionDef, metadata: MetaData | None = None) -> Table:
    """The Table for a collection's records (in its own MetaData unless one is given)."""
    metadata = metadata if metadata is not None else MetaData()
    columns: list[Column[Any]] = [
        Column("id", code_point_text(), primary_key=True),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Column("created_by", code_point_text(), nullable=True),
        Column("updated_by", code_point_text(), nullable=True),
        Column("_version", Integer(), nullable=False, server_default="0"),
        Column("_hlc", code_point_text(), nullable=False),
        Column("_origin", code_point_text(), nullable=True),
        Column("_deleted", Boolean(), nullable=False, server_default=false()),
    ]
    # NOT NULL is the service's rule (required), not the column's: a required field added to a table
    # with rows, or a tombstone, must not need a value at the SQL level.
    columns += [Column(spec.name, column_type(spec), nullable=True) for spec in definition.fields]
    table = Table(definition.table_name, metadata, *columns)
    live = ~table.c._deleted
    for spec in definition.fields:
        column = table.c[spec.name]
        if spec.unique:
            # Partial: a tombstone keeps its values without blocking a live record from taking them.
            Index(
                index_name(definition, spec, unique=True),
                column,
                unique=True,
                sqlite_where=live,
                postgresql_where=live,
            )
        elif spec.indexed or spec.type is FieldType.RELATION:  # a unique index already serves lookups
            # With the id after the value, "field = x" in id order (the default sort, and keyset pages
            # after a cursor) is read straight off the index; on the value alone SQLite sorted every match.
            Index(index_name(definition, spec, unique=False), column, table.c.id)
    return table
