"""A page of a collection's records: filter, sort with an id tiebreak, keyset cursor or offset, projection, count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from backend.collections.filter_sql import compile_filter
from backend.collections.sort_param import parse_sort
from backend.db.paging import CursorCodec, SortKey, keyset_page_in
from backend.errors import BadRequest, FieldError
from backend.records.shape import RecordShape

MAX_OFFSET = 10_000_000


@dataclass(frozen=True)
class ListQuery:
    """What a list asks for, as the route parsed it."""

    limit: int = 50
    cursor: str | None = None
    offset: int = 0
    sort: str | None = None
    filter: str | None = None
    fields: Sequence[str] | None = None
    count: bool = False
    expand: Sequence[str] = ()


@dataclass
class RecordPage:
    """One page of records, the cursor of the next, and the total when it was asked for."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def sort_keys(shape: RecordShape, text: str | None) -> tuple[list[SortKey], str]:
    """The sort keys of a sort parameter, with id appended unless named; and their normal text (the cursor's scope)."""
    named = parse_sort(text, shape.sortable) if text and text.strip() else []
    if not any(name == "id" for name, _ in named):
        named.append(("id", False))
    keys = [
        SortKey(shape.sortable[name].column, descending, shape.sortable[name].nullable) for name, descending in named
    ]
    return keys, ",".join(("-" if descending else "") + name for name, descending in named)


def projected_fields(shape: RecordShape, names: Sequence[str] | None) -> list[str] | None:
    """The fields a ?fields= projection names, in the collection's order; BadRequest for an unknown one."""
    if names is None:
        return None
    unknown = [name for name in names if name not in shape.fields and name not in shape.sortable]
    if unknown:
        raise BadRequest(
            f"{unknown[0]} is not a field of {shape.definition.name}.",
            errors=[FieldError("fields", f"{name} is not a field of {shape.definition.name}") for name in unknown],
        )
    return [name for name in shape.fields if name in names]


def list_page_in(connection: Connection, shape: RecordShape, query: ListQuery, cursors: CursorCodec) -> RecordPage:
    """The page query asks for, read through connection (synchronously, in one snapshot)."""
    if query.cursor and query.offset:
        raise BadRequest(
            "Give a cursor or an offset, not both.", errors=[FieldError("offset", "cannot go with cursor")]
        )
    keys, order = sort_keys(shape, query.sort)
    names = projected_fields(shape, query.fields)
    columns = shape.columns_for(names)
    columns += [key.column for key in keys if all(key.column is not c for c in columns)]
    statement = shape.live(columns)
    if query.filter and query.filter.strip():
        statement = statement.where(compile_filter(query.filter, shape.filterable))
    page = keyset_page_in(
        connection,
        statement,
        keys=keys,
        codec=cursors,
        scope=f"records:{shape.definition.id}:{order}",
        limit=query.limit,
        cursor=query.cursor,
        offset=query.offset,
    )
    items = [shape.record(row._mapping, names) for row in page.rows]
    total = None
    if query.count:
        counted = select(func.count()).select_from(statement.with_only_columns(shape.table.c.id).subquery())
        total = int(connection.execute(counted).scalar_one())
    return RecordPage(items, page.next_cursor, total)
