"""The node's sync state: a few named values in sync_state (node id, clock high-water mark, later cursor, enrolment)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.engine import Database
from backend.db.types import utc_now
from backend.db.upserts import insert_on_conflict
from backend.sync.clock import Hlc, new_node_id
from backend.sync.models import SyncState

NODE_ID = "node_id"
HLC_HIGH_WATER = "hlc_high_water"


@dataclass(frozen=True)
class NodeIdentity:
    """Who this node is to the sync: an id made once, at first start."""

    node_id: str


async def read_state(session: AsyncSession, key: str) -> str | None:
    """The value kept under key, or None."""
    return (await session.execute(select(SyncState.value).where(SyncState.key == key))).scalar_one_or_none()


async def write_state(session: AsyncSession, key: str, value: str) -> None:
    """Keep value under key, replacing what was there, inside the caller's transaction."""
    statement = insert_on_conflict(SyncState, session.get_bind().dialect).values(
        key=key, value=value, updated_at=utc_now()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SyncState.key], set_={"value": statement.excluded.value, "updated_at": utc_now()}
        )
    )


async def load_node_identity(db: Database) -> NodeIdentity:
    """This node's identity, made and kept on the first call."""
    async with db.read() as session:
        node_id = await read_state(session, NODE_ID)
    if node_id is None:
        async with db.write() as session:
            # DO NOTHING: two first starts racing keep whichever id landed first.
            await session.execute(
                insert_on_conflict(SyncState, session.get_bind().dialect)
                .values(key=NODE_ID, value=new_node_id(), updated_at=utc_now())
                .on_conflict_do_nothing(index_elements=[SyncState.key])
            )
            node_id = await read_state(session, NODE_ID)
    if node_id is None:
        raise RuntimeError("sync_state kept no node id")
    return NodeIdentity(node_id)


async def read_high_water(session: AsyncSession) -> Hlc | None:
    """The clock's persisted high-water mark, if one was saved."""
    value = await read_state(session, HLC_HIGH_WATER)
    return Hlc.parse(value) if value else None


async def raise_high_water(session: AsyncSession, reading: Hlc) -> None:
    """Raise the persisted high-water mark to reading (never lowers it), inside the caller's transaction."""
    statement = insert_on_conflict(SyncState, session.get_bind().dialect).values(
        key=HLC_HIGH_WATER, value=str(reading), updated_at=utc_now()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[SyncState.key],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
            # Text order is clock order; a reading under another node id compares by wall and counter first.
            where=statement.excluded.value > SyncState.value,
        )
    )
