"""Appends that need an order (DESIGN rule 11) take it inside the writing transaction, on every engine."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def take_turn(session: Session, name: str) -> None:
    """Wait, inside session's transaction, until no other transaction holds name's turn; held until it ends.

    SQLite's one writer already runs one transaction at a time. On PostgreSQL writers run side by side, so an
    append that reads the head of a chain (the audit log's) and adds after it takes a transaction-scoped
    advisory lock first: the next appender reads the head only once this one's is committed.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"outpost:{name}"})
