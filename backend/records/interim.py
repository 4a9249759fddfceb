"""The collection catalog until backend/collections/catalog.py lands: no collection exists, so the app serves
the record routes (404 for every collection) meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table

from backend.collections.definition import CollectionDef
from backend.collections.tables import record_table
from backend.errors import NotFound


class NoCollections:
    """The catalog until backend/collections/catalog.py lands: no collection exists."""

    async def get(self, name: str) -> CollectionDef:
        raise NotFound(f"No collection {name}.")

    async def all(self) -> Sequence[CollectionDef]:
        return []

    def table(self, definition: CollectionDef) -> Table:
        return record_table(definition)
