"""Idempotency-Key on POST: a retried request gets the first reply, stored in the write's own transaction.

Scoped per principal (two clients may pick the same key). The request's fingerprint (method, path,
canonical JSON body) is kept with the reply: the same key with another request is refused with 422,
as the IETF draft "The Idempotency-Key HTTP Header Field" advises, rather than answered with a reply
to a request the client did not send. Only successful writes are stored: a refused write changed
nothing, so its retry simply runs again. Parallel retries are ordered by the one writer: the second
finds the first's row inside its own transaction. Rows older than RETENTION_S are ignored and purged
by later writes, a bounded range delete on an index.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from backend.db.locks import take_turn
from backend.errors import FieldError, ValidationFailed
from backend.records.models import IdempotencyKey

RETENTION_S = 24 * 3600
KEY_MAX_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class StoredReply:
    """An HTTP reply a write gave: its status, JSON body and the headers worth repeating."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: bool = False


@dataclass(frozen=True)
class IdempotentRequest:
    """A POST's Idempotency-Key, who sent it and what the request was."""

    principal: str
    key: str
    fingerprint: str


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the request: the same body in another key order is the same request."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyKeys:
    """Looks up and stores replies inside the caller's write transaction (synchronous: on the writer's thread)."""

    def __init__(self, retention_s: float = RETENTION_S, clock: Any = time.time) -> None:
        self.retention_s = retention_s
        self._now = clock

    def replay(self, session: Session, request: IdempotentRequest) -> StoredReply | None:
        """The stored reply to this request, None if the key is new (or expired); 422 if it named another.

        Retries of one key wait here for each other's transaction (on PostgreSQL writers run side by side), so a
        retry sent while the first is still writing replays its reply instead of writing again.
        """
        take_turn(session, f"idempotency:{request.principal}:{request.key}")
        keys = IdempotencyKey.__table__.c
        query = select(keys.fingerprint, keys.status, keys.body, keys.headers).where(
            keys.principal == request.principal,
            keys.key == request.key,
            keys.created_at >= self._now() - self.retention_s,
        )
        row = session.execute(query).first()
        if row is None:
            return None
        if row.fingerprint != request.fingerprint:
            raise ValidationFailed(
                "This Idempotency-Key was already used for another request (another path or body). "
                "Use a new key for a new request.",
                errors=[FieldError("Idempotency-Key", "was used for another request")],
            )
        return StoredReply(row.status, json.loads(row.body), json.loads(row.headers), replayed=True)

    def store(self, session: Session, request: IdempotentRequest, reply: StoredReply) -> None:
        """Keep reply for request; purges expired keys first (an expired row with this key too)."""
        now = self._now()
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - self.retention_s))
        session.execute(
            insert(IdempotencyKey),
            {
                "principal": request.principal,
                "key": request.key,
                "fingerprint": request.fingerprint,
                "status": reply.status,
                "body": json.dumps(reply.body, separators=(",", ":"), ensure_ascii=False),
                "headers": json.dumps(dict(reply.headers)),
                "created_at": now,
            },
        )
