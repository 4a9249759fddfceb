"""Stand-ins for modules other branches of issue 10 are writing, with the same names and signatures.

Each goes when its real module lands: parse_sort (backend/collections/sort_param.py), compile_filter
(backend/collections/filter_sql.py), the catalog (backend/collections/catalog.py), the clock and change
log (backend/sync/clock.py, backend/sync/changes.py). With no collections, no record is ever written,
so the app can serve the record routes (404 for every collection) before those land.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table

from backend.collections.definition import CollectionDef, FieldType
from backend.collections.tables import record_table
from backend.errors import BadRequest, FieldError, NotFound


@dataclass(frozen=True)
class FilterColumn:
    """A column the filter language may name: the SQL column, its field type, whether it holds a list."""

    column: Any
    type: FieldType | str
    multiple: bool = False


class FilterError(BadRequest):
    """The filter text is not valid; names the position."""


def compile_filter(text: str, columns: Mapping[str, FilterColumn]) -> ColumnElement[bool]:
    """Only the empty filter until the filter language lands."""
    raise FilterError(
        "The filter language is not available yet.",
        errors=[FieldError("filter", "is not supported yet at position 0")],
        extra={"position": 0},
    )


def parse_sort(text: str, sortable: Collection[str]) -> list[tuple[str, bool]]:
    """ "name,-created_at" as [(name, descending)]; an unknown or repeated name is a 400 naming it."""
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-").removeprefix("+")
        if name not in sortable:
            raise BadRequest(
                f"Cannot sort by {name!r}.",
                errors=[FieldError("sort", f"{name!r} is not a field that can be sorted by")],
            )
        if any(name == seen for seen, _ in keys):
            raise BadRequest(f"{name} is named twice.", errors=[FieldError("sort", f"{name} is named twice")])
        keys.append((name, descending))
    return keys


class NoCollections:
    """The catalog until backend/collections/catalog.py lands: no collection exists."""

    async def get(self, name: str) -> CollectionDef:
        raise NotFound(f"No collection {name}.")

    async def all(self) -> Sequence[CollectionDef]:
        return []

    def table(self, definition: CollectionDef) -> Table:
        return record_table(definition)


class Unwired:
    """The clock and change log until they land: never reached, since no collection exists to write to."""

    def tick(self) -> Any:
        raise RuntimeError("the clock is not wired yet")

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the change log is not wired yet")
