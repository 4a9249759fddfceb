"""Tables of the records domain: idempotency keys (the replies to retried POSTs)."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base


class IdempotencyKey(Base):
    """The reply first given to a POST sent with an Idempotency-Key, per principal, kept for a while."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    principal: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<kind>:<id>"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)  # SHA-256 of method, path and body
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the reply's JSON text
    headers: Mapped[str] = mapped_column(Text, nullable=False)  # JSON object of the headers replayed
    created_at: Mapped[float] = mapped_column(Float, nullable=False)  # Unix seconds
