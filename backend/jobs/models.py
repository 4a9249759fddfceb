"""The jobs table: the truth about every background job, whatever Huey's queue holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.types import PortableJson, UtcDateTime

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINISHED = frozenset({SUCCEEDED, FAILED, CANCELLED})


class JobRow(Base):
    """One background job: what it does, where it stands, who holds it."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state", "state"),
        Index("ix_jobs_kind", "kind"),
        Index("ix_jobs_created_at", "created_at", "id"),
        # A scheduled run is made once per slot, however many schedulers ask (see JobService.submit).
        Index("ux_jobs_dedupe_key", "dedupe_key", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7: the Huey task id too
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(PortableJson)
    state: Mapped[str] = mapped_column(String(16))
    progress: Mapped[int] = mapped_column(Integer, server_default="0")  # 0-100
    message: Mapped[str] = mapped_column(String(500), server_default="")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # what went wrong, for everyone who sees the job
    error_detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # the traceback, for administrators
    result: Mapped[dict[str, Any] | None] = mapped_column(PortableJson, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    lock_key: Mapped[str | None] = mapped_column(String(80), nullable=True)  # jobs of one key never overlap
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    retry_of: Mapped[str | None] = mapped_column(String(36), nullable=True)  # the failed job this one retries
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_type: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by_label: Mapped[str] = mapped_column(String(254))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    run_after: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # a retry waits until then
    lease_owner: Mapped[str | None] = mapped_column(String(80), nullable=True)  # the worker running it
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # its last sign of life
