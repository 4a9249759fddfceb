"""Stand-ins for the collection catalog, the clock and the change log, until their real modules land.

The change log writes to a table of its own in the writer's transaction, so a rolled-back write leaves
no change here either, as the real one must.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, insert
from sqlalchemy.orm import Session

from backend.collections.definition import CollectionDef
from backend.collections.tables import record_table
from backend.errors import NotFound

CHANGES = Table(
    "test_changes",
    MetaData(),
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("collection", Text),
    Column("record_id", Text),
    Column("op", Text),
    Column("fields", Text),
    Column("base_version", Integer),
    Column("hlc", Text),
)


class MemoryCatalog:
    """Collections held in a dict."""

    def __init__(self, *definitions: CollectionDef) -> None:
        self.definitions = {one.name: one for one in definitions}
        self._tables: dict[tuple[str, int], Table] = {}

    async def get(self, name: str) -> CollectionDef:
        if name not in self.definitions:
            raise NotFound(f"No collection {name}.")
        return self.definitions[name]

    def cached(self, name: str) -> CollectionDef | None:
        return self.definitions.get(name)

    def all(self) -> Sequence[CollectionDef]:
        return list(self.definitions.values())

    def table(self, definition: CollectionDef) -> Table:
        key = (definition.id, definition.schema_version)
        if key not in self._tables:
            self._tables[key] = record_table(definition)
        return self._tables[key]


@dataclass(frozen=True)
class Reading:
    """A clock reading: its text sorts in tick order."""

    count: int
    node_id: str = "00000000000000aa"

    def __str__(self) -> str:
        return f"{self.count:012x}-0000-{self.node_id}"


class CountingClock:
    """Ticks 1, 2, 3, …"""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def tick(self) -> Reading:
        return Reading(next(self._counter))


class TableChangeLog:
    """Appends each change to test_changes, in the caller's transaction."""

    def append_in(
        self,
        session: Session,
        *,
        collection_id: str,
        collection: str,
        record_id: str,
        op: str,
        fields: Mapping[str, Any],
        schema_version: int,
        base_version: int,
        hlc: Any = None,
        created_at: Any = None,
    ) -> None:
        values = {
            "collection": collection,
            "record_id": record_id,
            "op": op,
            "fields": json.dumps(dict(fields)),
            "base_version": base_version,
            "hlc": str(hlc),
        }
        session.execute(insert(CHANGES).values(**values))

    def append_all_in(self, session: Session, changes: Iterable[Mapping[str, Any]]) -> None:
        for change in changes:
            self.append_in(session, **change)
