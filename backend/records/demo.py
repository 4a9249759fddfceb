"""`outpost demo`: the demo dataset of demo_data.py made into collections and records."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from backend.collections.schemas import CollectionCreate
from backend.errors import Conflict
from backend.observability.audit import Actor
from backend.records.data_plane import DataPlane
from backend.records.demo_data import COLLECTIONS, DemoSize, Related, rows

CHUNK = 500  # records per transaction: the writer is shared, so others get their turn between chunks


def refuse_if_there(data: DataPlane) -> None:
    """Conflict (409) when any of the demo collections exists already."""
    names = [body["name"] for body in COLLECTIONS]
    taken = [name for name in names if data.catalog.cached(name) is not None]
    if taken:
        raise Conflict(f"The demo data is there already (or collections of its names: {', '.join(taken)}).")


async def load_demo(data: DataPlane, actor: Actor, size: DemoSize | None = None) -> dict[str, Any]:
    """Make the demo collections and fill them; refused (409) when any of them exists already."""
    size = size or DemoSize()
    refuse_if_there(data)
    started = time.monotonic()
    ids: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for body in COLLECTIONS:
        create = msgspec.convert(body, CollectionCreate)
        await data.collections.create(
            actor, name=create.name, description=create.description, fields=[f.definition() for f in create.fields]
        )
        made: list[str] = []
        chunk: list[dict[str, Any]] = []
        for row in rows(create.name, size):
            chunk.append({k: ids[v.collection][v.index] if isinstance(v, Related) else v for k, v in row.items()})
            if len(chunk) == CHUNK:
                made += await data.records.create_many(actor, create.name, chunk)
                chunk = []
        if chunk:
            made += await data.records.create_many(actor, create.name, chunk)
        ids[create.name] = made
        counts[create.name] = len(made)
    return {"collections": counts, "records": sum(counts.values()), "seconds": round(time.monotonic() - started, 2)}
