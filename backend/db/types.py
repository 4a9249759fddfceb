"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in, an aware UTC datetime out (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_range_problem(moment: datetime) -> str | None:
    """Why an aware datetime cannot be kept as a UTC moment, or None.

    Python's datetimes end at years 1 and 9999: 9999-12-31T23:59:59-14:00 is a valid ISO 8601
    time whose UTC form is in the year 10000, so converting it raises OverflowError.
    """
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return "is out of range: in UTC it must fall between the years 1 and 9999"
    return None


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class PortableJson(TypeDecorator[Any]):
    """JSON kept as text on both engines: a column declared JSON gets numeric affinity on SQLite ('123' would
    come back as 123), and one column type on both keeps the migrations (TEXT) and the tables they make alike.
    Queries that look inside cast to JSONB on PostgreSQL (see collections/filter_sql.py)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # The same column type as text fields (by code point), so a field becoming JSON keeps its column.
        return Text(collation="C") if dialect.name == "postgresql" else Text()

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return value
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return value
        return json.loads(value)


def code_point_text() -> TypeEngine[str]:
    """Text that compares by code point on every engine (SQLite's BINARY; PostgreSQL's "C" collation)."""
    return Text().with_variant(Text(collation="C"), "postgresql")
