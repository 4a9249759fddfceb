"""INSERT … ON CONFLICT, which SQLAlchemy builds per dialect: the one place that picks the dialect's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite


def insert_on_conflict(table: Any, dialect: Dialect | str) -> Any:
    """An INSERT into table for dialect (or its name), with on_conflict_do_update/do_nothing and excluded."""
    name = dialect if isinstance(dialect, str) else dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)
