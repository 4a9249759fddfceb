"""The in-process catalog of collections: name -> definition and its compiled Table.

A record request asks the catalog, not the database, for its collection's definition: the map is
loaded at start and changed by CollectionService right after each schema change commits (in the
same call, so no request sees the new table with the old definition). The schema_version of a
definition tells compiled statements and cached pages whether they are stale; listeners hear of
every change.

One process owns outpost.db today (DESIGN rule 5), so this process makes every change it must know
of. In server mode (several instances), an instance would learn of another's change by comparing the
schema_version in its own write transaction with the stored one (rule 11: shared truth is read from
the store in the operation that depends on it) and by a Redis message that makes it reload; a miss
here already falls back to the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import Table, select

from backend.collections.definition import CollectionDef, FieldDef
from backend.collections.models import CollectionRow
from backend.collections.tables import record_table
from backend.db.engine import Database
from backend.errors import NotFound

SchemaListener = Callable[[str, CollectionDef | None], None]


def definition_of(row: CollectionRow) -> CollectionDef:
    """A stored row as a definition."""
    return CollectionDef(
        id=row.id,
        name=row.name,
        fields=tuple(FieldDef.from_json(one) for one in json.loads(row.fields)),
        description=row.description,
        schema_version=row.schema_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def not_found(name: str) -> NotFound:
    return NotFound(f"There is no collection {name}.")


class CollectionCatalog:
    """Definitions by name, kept in memory; Tables compiled once per (name, schema_version)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._definitions: dict[str, CollectionDef] = {}
        self._tables: dict[tuple[str, int], Table] = {}
        self._listeners: list[SchemaListener] = []
        self.on_change: Callable[[], None] = lambda: None  # tells the other instances (server mode)

    async def load(self) -> None:
        """Read every definition (at start)."""
        async with self.db.read() as session:
            rows = (await session.scalars(select(CollectionRow))).all()
        self._definitions = {row.name: definition_of(row) for row in rows}
        self._tables.clear()

    async def get(self, name: str) -> CollectionDef:
        """The collection's definition, or NotFound (404)."""
        found = self._definitions.get(name)
        if found is not None:
            return found
        # A miss reads the store once: a collection made by another writer of this file (none today) is found.
        async with self.db.read() as session:
            row = (await session.scalars(select(CollectionRow).where(CollectionRow.name == name))).first()
        if row is None:
            raise not_found(name)
        definition = definition_of(row)
        self._definitions[name] = definition
        return definition

    def cached(self, name: str) -> CollectionDef | None:
        """The definition held in memory, if any (no database read)."""
        return self._definitions.get(name)

    def names(self) -> list[str]:
        """Every collection held, by name."""
        return sorted(self._definitions)

    def all(self) -> list[CollectionDef]:
        """Every collection held, by name (the record service looks here for relations into one)."""
        return [self._definitions[name] for name in sorted(self._definitions)]

    def table(self, definition: CollectionDef) -> Table:
        """The record table of this version of the definition, built on first use."""
        key = (definition.name, definition.schema_version)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = record_table(definition)
        return table

    def subscribe(self, listener: SchemaListener) -> None:
        """Call listener(name, definition or None when deleted) after every schema change."""
        self._listeners.append(listener)

    def changed(self, name: str, definition: CollectionDef | None) -> None:
        """A schema change committed: hold the new definition, forget stale Tables, tell the listeners and the
        other instances."""
        self._apply(name, definition)
        self.on_change()

    async def reload(self) -> None:
        """Another instance changed schemas: read every definition again, and apply those that differ."""
        async with self.db.read() as session:
            rows = (await session.scalars(select(CollectionRow))).all()
        stored = {row.name: definition_of(row) for row in rows}
        for name in sorted(set(stored) | set(self._definitions)):
            held, now = self._definitions.get(name), stored.get(name)
            if held is None or now is None or (held.id, held.schema_version) != (now.id, now.schema_version):
                self._apply(name, now)

    def _apply(self, name: str, definition: CollectionDef | None) -> None:
        if definition is None:
            self._definitions.pop(name, None)
        else:
            self._definitions[name] = definition
        for key in [key for key in self._tables if key[0] == name]:
            if definition is None or key[1] != definition.schema_version:
                del self._tables[key]
        for listener in self._listeners:
            listener(name, definition)
