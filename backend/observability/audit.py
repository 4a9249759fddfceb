"""The audit trail: append-only rows, each HMAC chained to the last, the head anchored outside the table."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backend.datadir import write_private_file
from backend.db.engine import Database
from backend.db.group_commit import after_commit
from backend.db.locks import take_turn
from backend.db.paging import CursorCodec, SortKey, keyset_page
from backend.db.types import utc_now
from backend.db.upserts import insert_on_conflict
from backend.observability.audit_models import AuditAnchorRow, AuditEvent
from backend.observability.request_id import current_request_id

GENESIS = "0" * 64
AUDIT_ORDER = (SortKey(AuditEvent.id, descending=True),)


@dataclass(frozen=True)
class Actor:
    """Who did something: a user, an API key, the system (CLI, startup) or an anonymous client."""

    type: str
    id: str | None
    label: str
    client: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One thing to record."""

    action: str
    actor: Actor
    outcome: str = "success"
    target: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _row_material(row: AuditEvent, previous_hash: str) -> bytes:
    fields = [
        row.id,
        row.at.isoformat(),
        row.actor_type,
        row.actor_id,
        row.actor_label,
        row.action,
        row.target,
        row.client,
        row.request_id,
        row.outcome,
        row.details,
        previous_hash,
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class VerifyReport:
    """What `audit verify` found."""

    rows: int
    anchored_position: int | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


ANCHOR_BYTES = 256  # the anchor's JSON, padded: written whole in one go, it stays within one 512-byte sector


_APPEND = insert(AuditEvent.__table__)


class AuditTrail:
    """Appends and verifies the chain; the MAC key derives from the instance secret."""

    def __init__(self, db: Database, key: bytes, anchor_path: Path, cursors: CursorCodec) -> None:
        self.db = db
        self.cursors = cursors
        self.key = key
        self.anchor_path = anchor_path
        # Embedded, the anchor is a file beside the database: cutting rows from the database leaves it behind.
        # In server mode instances on many machines append, and no one file sees every append: the anchor is a
        # row moved in each appending transaction (AuditAnchorRow), kept honest by its MAC.
        self.anchor_in_database = db.engine_name != "sqlite"

    def _mac(self, material: bytes) -> str:
        return hmac.new(self.key, material, hashlib.sha256).hexdigest()

    async def append(self, session: AsyncSession, entry: AuditEntry) -> AuditEvent:
        """Add entry to the chain inside the caller's write transaction; the anchor moves after COMMIT."""
        return await session.run_sync(self.append_in, entry)

    def append_in(self, session: Session, entry: AuditEntry) -> AuditEvent:
        """append, for a synchronous session (Database.write_in_thread)."""
        # The head is read here, inside the write transaction that holds the one writer (or the chain's turn),
        # never from a value read or cached before it: two appends would otherwise take the same position.
        take_turn(session, "audit")
        query = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        last = session.execute(query).first()
        position, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row = AuditEvent(
            id=position,
            at=utc_now(),
            actor_type=entry.actor.type,
            actor_id=entry.actor.id,
            actor_label=entry.actor.label[:254],
            action=entry.action,
            target=entry.target,
            client=entry.actor.client,
            request_id=current_request_id(),
            outcome=entry.outcome,
            details=entry.details,
            hash="",
        )
        row.hash = self._mac(_row_material(row, previous_hash))
        values = {column.key: getattr(row, column.key) for column in AuditEvent.__table__.columns}
        # Core, one statement built once: no unit of work, and no cache key made from the values of each append.
        session.connection().execute(_APPEND, values)

        if self.anchor_in_database:
            self._anchor_in(session, position, row.hash)
        else:
            # No fsync: a crash can only leave the anchor behind the table, which verify accepts.
            after_commit(session, lambda: self._write_anchor(position, row.hash))
        return row

    def _anchor_in(self, session: Session, position: int, row_hash: str) -> None:
        """Move the database's anchor to (position, row_hash) inside session's transaction."""
        values = {"id": 1, "position": position, "hash": row_hash, "mac": self._anchor_mac(position, row_hash)}
        statement = insert_on_conflict(AuditAnchorRow, session.get_bind().dialect).values(values)
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[AuditAnchorRow.id],
                set_={"position": excluded.position, "hash": excluded.hash, "mac": excluded.mac},
            )
        )

    def _anchor_mac(self, position: int, row_hash: str) -> str:
        return self._mac(f"anchor:{position}:{row_hash}".encode())

    def _checked_anchor(self, position: int, row_hash: str, mac: str) -> tuple[int, str]:
        if not hmac.compare_digest(self._anchor_mac(position, row_hash), mac):
            raise ValueError("the anchor's MAC does not match: it was edited")
        return position, row_hash

    async def record(self, entry: AuditEntry) -> None:
        """Append entry in a transaction of its own (denials, failed logins): one trip to the writer."""
        await self.db.write_in_thread(lambda session: self.append_in(session, entry))

    def _write_anchor(self, position: int, row_hash: str, *, durable: bool = False) -> None:
        mac = self._anchor_mac(position, row_hash)
        payload = json.dumps({"position": position, "hash": row_hash, "mac": mac}).encode().ljust(ANCHOR_BYTES)
        if durable or not self._rewrite_anchor(payload):
            write_private_file(self.anchor_path, payload, durable=durable)

    def _rewrite_anchor(self, payload: bytes) -> bool:
        """Overwrite the anchor in place with one write of its fixed size; False if there is none of that size yet.

        A new file renamed over the old one cost ~4 ms per audited write under load (ext4 writes out the data
        of a file renamed over another); one write within a disk sector is not torn, and needs no rename.
        """
        try:
            descriptor = os.open(self.anchor_path, os.O_WRONLY | os.O_NOFOLLOW)
        except OSError:
            return False
        try:
            if os.fstat(descriptor).st_size != len(payload):
                return False
            os.pwrite(descriptor, payload, 0)
            return True
        finally:
            os.close(descriptor)

    async def anchor_at_head(self) -> int:
        """Anchor the chain at its last row (after a restore, whose older chain is the genuine past); its position."""
        query = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        last = await self.db.read_in_thread(lambda connection: connection.execute(query).first())
        if self.anchor_in_database:

            def move(session: Session) -> None:
                session.execute(delete(AuditAnchorRow))
                if last is not None:
                    self._anchor_in(session, last[0], last[1])

            await self.db.write_in_thread(move)
            return int(last[0]) if last else 0
        if last is None:
            self.anchor_path.unlink(missing_ok=True)
            return 0
        await asyncio.to_thread(lambda: self._write_anchor(last[0], last[1], durable=True))
        return int(last[0])

    def read_anchor(self) -> tuple[int, str] | None:
        """The anchored (position, hash), None if nothing was anchored; raises ValueError if it was forged."""
        if not self.anchor_path.exists():
            return None
        anchor = json.loads(self.anchor_path.read_text())
        return self._checked_anchor(int(anchor["position"]), str(anchor["hash"]), str(anchor["mac"]))

    async def verify(self, *, expect_rows: bool = False) -> VerifyReport:
        """Walk the whole chain and compare its head with the anchor.

        expect_rows: something that is always audited exists (a user), so an empty log means it was wiped.
        """
        problems: list[str] = []
        previous_hash = GENESIS
        expected_position = 1
        hashes: dict[int, str] = {}
        count = 0
        stored_anchor = None
        async with self.db.read() as session:
            if self.anchor_in_database:  # in the chain's own snapshot: appends meanwhile move neither
                stored_anchor = (await session.execute(select(AuditAnchorRow))).scalars().first()
            result = await session.stream_scalars(select(AuditEvent).order_by(AuditEvent.id))
            async for row in result:
                count += 1
                if row.id != expected_position:
                    problems.append(f"rows {expected_position}..{row.id - 1} are missing (deleted)")
                    previous_hash = "?"
                if previous_hash != "?" and not hmac.compare_digest(
                    self._mac(_row_material(row, previous_hash)), row.hash
                ):
                    problems.append(f"row {row.id} does not match its MAC (edited, or its predecessor was)")
                previous_hash = row.hash
                hashes[row.id] = row.hash
                expected_position = row.id + 1
        last_position = expected_position - 1
        try:
            if self.anchor_in_database:
                anchor = stored_anchor and self._checked_anchor(
                    stored_anchor.position, stored_anchor.hash, stored_anchor.mac
                )
            else:
                anchor = self.read_anchor()
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"the anchor {'row' if self.anchor_in_database else 'file'} is not valid: {exc}")
            anchor = None
        if anchor is not None:
            position, row_hash = anchor
            if last_position < position:
                problems.append(
                    f"the log ends at row {last_position} but row {position} was written: rows cut from the end"
                )
            elif hashes.get(position) != row_hash:
                problems.append(f"row {position} differs from the anchored one")
        elif count:
            problems.append("rows exist but no anchor was written")
        elif expect_rows:
            problems.append("the log is empty and has no anchor, yet users exist: it was wiped")
        return VerifyReport(rows=count, anchored_position=anchor[0] if anchor else None, problems=problems)

    async def page(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[list[AuditEvent], str | None]:
        """Newest first; the rows and the cursor of the next page."""
        query = select(AuditEvent)
        if action:
            # A prefix, as people type it: "u", "user" and "user." all find user.create; "auth.login" finds itself
            # (and any later auth.login_* action, which belongs with it). % and _ are literal.
            query = query.where(AuditEvent.action.startswith(action, autoescape=True))
        if actor:
            query = query.where(AuditEvent.actor_label.icontains(actor, autoescape=True))
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        if since:
            query = query.where(AuditEvent.at >= since)
        if until:
            query = query.where(AuditEvent.at < until)
        async with self.db.read() as session:
            page = await keyset_page(
                session, query, keys=AUDIT_ORDER, codec=self.cursors, scope="audit", limit=limit, cursor=cursor
            )
        return [row for (row,) in page.rows], page.next_cursor
