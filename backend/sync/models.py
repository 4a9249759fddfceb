"""Sync tables: the node's change log (outbox) and its small key/value state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.types import UtcDateTime


class ChangeRow(Base):
    """One local change to one record, waiting for (or carried by) a push; seq orders the node's outbox."""

    __tablename__ = "changes"
    __table_args__ = (
        CheckConstraint("op IN ('insert', 'update', 'delete')", name="op"),
        # At most one unpushed change per record: the one later edits coalesce into (and the upsert's target).
        Index(
            "ix_changes_unpushed_record",
            "collection_id",
            "record_id",
            unique=True,
            sqlite_where=text("NOT pushed"),
            postgresql_where=text("NOT pushed"),
        ),
        # AUTOINCREMENT: a seq is never handed out twice, even after the newest changes are deleted.
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[str] = mapped_column(String(36), unique=True)
    collection_id: Mapped[str] = mapped_column(String(36))
    collection: Mapped[str] = mapped_column(String(63))
    record_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(6))
    # JSON as TEXT: a column declared JSON gets SQLite's numeric affinity, which would turn '1' into 1.
    fields: Mapped[str] = mapped_column(Text)
    schema_version: Mapped[int] = mapped_column(Integer)
    base_version: Mapped[int] = mapped_column(Integer)
    hlc: Mapped[str] = mapped_column(String(34))
    pushed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    pushed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SyncState(Base):
    """What the node keeps about itself for sync: its id, its clock's high-water mark, later cursor and enrolment."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
