"""The highest number an autoincrementing key ever handed out, deleted rows' included (each engine keeps it apart)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, text
from sqlalchemy.orm import Session


def highest_handed_out(session: Session, column: Column[Any]) -> int:
    """The highest value column's sequence handed out; 0 if none yet."""
    table = column.table.name
    if session.get_bind().dialect.name == "postgresql":
        sequence = session.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table, "column": column.name}
        ).scalar()
        if sequence is None:
            return 0
        # The name comes from the catalog (schema-qualified and quoted as needed), not from anyone's input.
        query = text(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}")
        return int(session.execute(query).scalar() or 0)
    # AUTOINCREMENT tables keep theirs in sqlite_sequence.
    found = session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table}).scalar()
    return int(found or 0)
