"""Tables of the system domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base


class SavedSetting(Base):
    """A setting an administrator saved; flags and environment still override it."""

    __tablename__ = "saved_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # JSON text in a TEXT column: SQLite gives a JSON column numeric affinity and turns '20000000' into an int.
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
