"""The audit_events table: append-only, each row's HMAC chained to the previous row's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.types import UtcDateTime


class AuditEvent(Base):
    """Something security-relevant that happened, who did it, from where, and how it ended."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the chain position
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    actor_type: Mapped[str] = mapped_column(String(16), nullable=False)  # user | api_key | system | anonymous
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(254), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(String(300))
    client: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)  # success | failure | denied
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditAnchorRow(Base):
    """Server mode's anchor: the chain's last position and hash, with their MAC (one row, id 1).

    Moved in the appending transaction, so every instance's appends keep it at the head; a row cut from the end
    of the chain leaves the anchor pointing past it, and the MAC keeps anyone without the secret from moving it.
    """

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)
