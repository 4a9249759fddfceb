"""A collection's records as the service reads and writes them, worked out once per schema version.

Everything here depends only on the definition, so it is built once per (collection id, schema version)
and reused until the schema changes; a faster read path can replace what it holds without touching the
service's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Column, Dialect, Select, Table, bindparam, select

from backend.collections.definition import CollectionDef, FieldDef, FieldType
from backend.collections.filter_sql import FilterColumn
from backend.collections.values import to_api
from backend.db.engine import Database
from backend.db.point_reads import PointQuery

# Shown in every record, in this order, before its fields.
SHOWN_SYSTEM_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by", "_version", "_rev")
# Accepted in a body (a record read and sent back) but never written from it; "id" only on create.
READ_ONLY_FIELDS = frozenset({*SHOWN_SYSTEM_FIELDS, "expand"})
# System fields that are never NULL (the others sort their NULLs last like any field).
_NOT_NULL = frozenset({"id", "created_at", "updated_at", "_version", "_rev"})


@dataclass(frozen=True)
class SortColumn:
    """A column a list can be ordered by."""

    column: Column[Any]
    nullable: bool


@dataclass(frozen=True)
class PointRead:
    """A live record by id, compiled once per schema version: the query and each column's way to its JSON value.

    Each column goes from the driver's value to its JSON value in one step: its type's result processor
    and the JSON conversion fused (see _to_json_from_driver).
    """

    query: PointQuery
    names: tuple[str, ...]
    from_driver: tuple[Callable[[Any], Any], ...]

    @classmethod
    def build(
        cls, query: PointQuery, names: tuple[str, ...], to_json: tuple[Callable[[Any], Any], ...], moments: set[int]
    ) -> PointRead:
        """The point read of query, whose columns at the indexes in moments hold UTC moments."""
        fused = tuple(
            _to_json_from_driver(process, convert, index in moments)
            for index, (process, convert) in enumerate(zip(query.processors, to_json, strict=True))
        )
        return cls(query, names, fused)

    async def record(self, db: Database, record_id: str) -> dict[str, Any] | None:
        """The record JSON, or None when there is no live record with that id."""
        rows = await self.query.raw_rows(db, id=record_id)
        if not rows:
            return None
        return {name: convert(raw) for name, convert, raw in zip(self.names, self.from_driver, rows[0], strict=True)}


def _to_json_from_driver(
    process: Callable[[Any], Any] | None, to_json: Callable[[Any], Any], moment: bool
) -> Callable[[Any], Any]:
    """One column's driver value to its JSON value: the type's processor, then to_json.

    A UTC moment as SQLite keeps it ("2026-05-01 09:30:00.250000") becomes its JSON text
    ("2026-05-01T09:30:00.250000Z") by slicing, not by parsing a datetime to print it again; any other
    text takes the long way (a test holds the two equal).
    """

    def slow(raw: Any) -> Any:
        return to_json(raw if process is None else process(raw))

    if not moment:
        return slow if process is not None else to_json

    def fast(raw: Any) -> Any:
        if type(raw) is str and len(raw) == 26 and raw[10] == " " and raw[19] == "." and raw[20:].isdigit():
            if raw.endswith("000000"):  # isoformat leaves out a zero fraction
                return f"{raw[:10]}T{raw[11:19]}Z"
            return f"{raw[:10]}T{raw[11:]}Z"
        return slow(raw)

    return fast


def moments_to_json(column: Sequence[Any], slow: Callable[[Any], Any]) -> list[Any]:
    """A column of UTC moments as _to_json_from_driver's fast path makes one, in one loop (an export's many rows).

    slow(raw) is the long way, for any value not in the form SQLite keeps moments in (None included).
    """
    return [
        (f"{raw[:10]}T{raw[11:19]}Z" if raw.endswith("000000") else f"{raw[:10]}T{raw[11:]}Z")
        if type(raw) is str and len(raw) == 26 and raw[10] == " " and raw[19] == "." and raw[20:].isdigit()
        else slow(raw)
        for raw in column
    ]


def _same(value: Any) -> Any:
    return value


@dataclass
class RecordShape:
    """One schema version of a collection: its table, fields, sortable and filterable columns."""

    definition: CollectionDef
    table: Table
    fields: dict[str, FieldDef] = field(init=False)
    sortable: dict[str, SortColumn] = field(init=False)
    filterable: dict[str, FilterColumn] = field(init=False)
    _point_reads: dict[str, PointRead] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        c = self.table.c
        self.fields = {spec.name: spec for spec in self.definition.fields}
        system = {name: (c._hlc if name == "_rev" else c[name]) for name in SHOWN_SYSTEM_FIELDS}
        self.sortable = {name: SortColumn(column, name not in _NOT_NULL) for name, column in system.items()}
        self.filterable = {
            "id": FilterColumn(c.id, FieldType.TEXT),
            "created_at": FilterColumn(c.created_at, FieldType.DATETIME),
            "updated_at": FilterColumn(c.updated_at, FieldType.DATETIME),
            "created_by": FilterColumn(c.created_by, FieldType.TEXT),
            "updated_by": FilterColumn(c.updated_by, FieldType.TEXT),
            "_version": FilterColumn(c._version, FieldType.INTEGER),
        }
        for spec in self.definition.fields:
            if not spec.holds_json:  # a JSON value has no order that both engines agree on
                self.sortable[spec.name] = SortColumn(c[spec.name], True)
            self.filterable[spec.name] = FilterColumn(c[spec.name], spec.type, spec.multiple)

    @property
    def key(self) -> tuple[str, int]:
        """What the shape is built for."""
        return self.definition.id, self.definition.schema_version

    def live(self, columns: Iterable[Any] | None = None) -> Select[Any]:
        """SELECT the given columns (else all) of the records that are not tombstones."""
        chosen = list(columns) if columns is not None else [self.table]
        return select(*chosen).where(~self.table.c._deleted)

    def point_read(self, dialect: Dialect) -> PointRead:
        """The live record by id as one precompiled statement for this dialect (see PointQuery)."""
        found = self._point_reads.get(dialect.name)
        if found is None:
            statement = self.live(self.columns_for(None)).where(self.table.c.id == bindparam("id"))
            moment = to_json_moment
            system = [_same, moment, moment, _same, _same, _same, _same]
            fields = [partial(to_api, spec) for spec in self.definition.fields]
            moments = {1, 2} | {
                len(system) + index
                for index, spec in enumerate(self.definition.fields)
                if spec.type is FieldType.DATETIME
            }
            found = self._point_reads[dialect.name] = PointRead.build(
                PointQuery.compile(statement, dialect),
                (*SHOWN_SYSTEM_FIELDS, *self.fields),
                (*system, *fields),
                moments,
            )
        return found

    def columns_for(self, names: Iterable[str] | None) -> list[Column[Any]]:
        """The columns a record projected to names needs (every system column, and those fields)."""
        c = self.table.c
        wanted = self.definition.fields if names is None else [self.fields[n] for n in names]
        return [
            c.id,
            c.created_at,
            c.updated_at,
            c.created_by,
            c.updated_by,
            c._version,
            c._hlc,
            *(c[spec.name] for spec in wanted),
        ]

    def record(self, row: Mapping[str, Any], names: Iterable[str] | None = None) -> dict[str, Any]:
        """A row as record JSON (only the fields in names, if given)."""
        record: dict[str, Any] = {
            "id": row["id"],
            "created_at": to_json_moment(row["created_at"]),
            "updated_at": to_json_moment(row["updated_at"]),
            "created_by": row["created_by"],
            "updated_by": row["updated_by"],
            "_version": row["_version"],
            "_rev": row["_hlc"],
        }
        specs = self.definition.fields if names is None else [self.fields[n] for n in names]
        for spec in specs:
            record[spec.name] = to_api(spec, row.get(spec.name))
        return record


def to_json_moment(value: Any) -> Any:
    """A system timestamp in the record's JSON form."""
    return to_api(_MOMENT, value)


_MOMENT = FieldDef("fsystemtime", "moment", FieldType.DATETIME)


class ShapeCache:
    """Shapes by (collection id, schema version); an older version of a collection is dropped."""

    def __init__(self) -> None:
        self._shapes: dict[str, RecordShape] = {}

    def get(self, definition: CollectionDef, table_of: Callable[[CollectionDef], Table]) -> RecordShape:
        """The shape of this definition, built (with table_of's table) on first use."""
        shape = self._shapes.get(definition.id)
        if shape is None or shape.key != (definition.id, definition.schema_version):
            shape = self._shapes[definition.id] = RecordShape(definition, table_of(definition))
        return shape
