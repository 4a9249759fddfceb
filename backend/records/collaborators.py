"""What the record service needs from its neighbours: the collection catalog, the clock and the change log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.orm import Session

from backend.collections.definition import CollectionDef


class Catalog(Protocol):
    """The collections: their definitions (current schema version) and their tables."""

    async def get(self, name: str) -> CollectionDef:
        """The collection called name, or NotFound."""
        ...

    def cached(self, name: str) -> CollectionDef | None:
        """The definition held in memory, if any (no database read: the writer's thread asks this)."""
        ...

    def all(self) -> Sequence[CollectionDef]:
        """Every collection (the on-delete rules look for relations into the one a record leaves)."""
        ...

    def table(self, definition: CollectionDef) -> Table:
        """The record table of a definition."""
        ...


class Reading(Protocol):
    """One reading of the hybrid logical clock; str() is its sortable text."""

    @property
    def node_id(self) -> str: ...


class Clock(Protocol):
    """The node's hybrid logical clock."""

    def tick(self) -> Any:
        """A reading later than every one before it (a Reading)."""
        ...


class ChangeSink(Protocol):
    """The node's change log: every local record write appends here, in the writing transaction (synchronously)."""

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
    ) -> Any:
        """Append one change (fields by field id, JSON values) and return it."""
        ...

    def append_all_in(self, session: Session, changes: Iterable[Mapping[str, Any]]) -> None:
        """Append changes in order, each given as append_in's keyword arguments."""
        ...


class Grants(Protocol):
    """What the caller may do (a Principal)."""

    def can(self, needed: str) -> bool: ...
