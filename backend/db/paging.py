"""Keyset paging for every list: signed, opaque cursors and one page of a SQLAlchemy select.

A cursor holds the sort values of the last row of a page, HMAC-signed with a key derived from the
instance secret, so a cursor the API did not give out (made up, edited, from another list) is refused
before any of its values reaches SQL. Rows are ordered by one or more sort keys, the last of which must
be unique and NOT NULL (the id tiebreak), so every row has one place and no row is seen twice. A key that
may be NULL says so (nullable=True): its NULLs sort last in both directions, as (column IS NULL, column),
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, false, literal, or_, true
from sqlalchemy.exc import NoSuchColumnError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_CURSOR_LENGTH = 512  # a cursor of a few sort values is far shorter; longer is refused unread
NOT_OURS = "The cursor is not one this API gave out."
_TAG_LENGTH = 16  # bytes of the HMAC kept: 128 bits cannot be guessed


@dataclass(frozen=True)
class SortKey:
    """A column a list is ordered by, and its direction."""

    column: Any  # an ORM attribute or a Core column
    descending: bool = False
    nullable: bool = False  # whether the column may hold NULL (then NULLs come last, either direction)

    def ordered(self) -> ColumnElement[Any]:
        """The ORDER BY term of the column itself."""
        return self.column.desc() if self.descending else self.column.asc()

    def terms(self) -> list[ColumnElement[Any]]:
        """The ORDER BY terms: a nullable key first puts its NULLs last."""
        # false < true: rows with a value first. An expression rather than NULLS LAST, so both engines agree.
        return [self.column.is_(None).asc(), self.ordered()] if self.nullable else [self.ordered()]

    def bound(self, value: Any) -> ColumnElement[Any]:
        """value as a parameter of this column's type (a plain True would not compare with <)."""
        return literal(value, self.column.type)

    def after(self, value: Any) -> ColumnElement[bool]:
        """Rows strictly after value in this key's order."""
        if value is None:
            return false()  # nothing sorts after NULL: they come last
        beyond = self.column < self.bound(value) if self.descending else self.column > self.bound(value)
        return or_(beyond, self.column.is_(None)) if self.nullable else beyond

    def same(self, value: Any) -> ColumnElement[bool]:
        """Rows level with value in this key's order."""
        if value is None:
            return self.column.is_(None) if self.nullable else true()
        return self.column == self.bound(value)


@dataclass(frozen=True)
class Page:
    """One page of rows, and the cursor of the next one (None on the last page)."""

    rows: list[Any]
    next_cursor: str | None


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"a sort value must be a str, number, bool, date, datetime or None, not {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), str):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError("not a sort value")


class CursorCodec:
    """Signs and checks cursors; scope names the list, so one list's cursor is refused by another."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _tag(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:_TAG_LENGTH]

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        """An opaque cursor for these sort values in the list scope."""
        payload = json.dumps([_to_json(v) for v in values], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._tag(scope, payload) + payload).decode().rstrip("=")

    def decode(self, scope: str, cursor: str, arity: int) -> list[Any]:
        """The sort values in a cursor this API gave out for scope, or BadRequest."""
        try:
            if len(cursor) > MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            tag, payload = raw[:_TAG_LENGTH], raw[_TAG_LENGTH:]
            if not hmac.compare_digest(tag, self._tag(scope, payload)):
                raise ValueError("not signed by us")
            values = json.loads(payload)
            if not isinstance(values, list) or len(values) != arity:
                raise ValueError("not this list's sort values")
            return [_from_json(v) for v in values]
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadRequest(NOT_OURS) from None


def _after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    # (k1, k2, …) after (v1, v2, …), each key in its own direction:
    # k1 after v1, or k1 = v1 and k2 after v2, or …
    terms = []
    for index, key in enumerate(keys):
        equal = [keys[i].same(values[i]) for i in range(index)]
        terms.append(and_(*equal, key.after(values[index])))
    return or_(*terms)


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    keys: Sequence[SortKey],
    codec: CursorCodec,
    scope: str,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """One page of statement ordered by keys (the last unique), starting after cursor.

    statement selects the rows (with any filters and joins, no ORDER BY); each key's column is either
    selected itself or an attribute of the row's first element (an ORM entity). offset skips rows first
    (after the cursor, if both are given).
    """
    paged = _page_statement(statement, keys, codec, scope, limit, cursor, offset)
    return _page(list((await session.execute(paged)).all()), keys, codec, scope, limit)


def keyset_page_in(
    connection: Connection,
    statement: Select[Any],
    *,
    keys: Sequence[SortKey],
    codec: CursorCodec,
    scope: str,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """keyset_page, read synchronously through connection (a reader's thread, in one trip)."""
    paged = _page_statement(statement, keys, codec, scope, limit, cursor, offset)
    return _page(list(connection.execute(paged).all()), keys, codec, scope, limit)


def _page_statement(
    statement: Select[Any],
    keys: Sequence[SortKey],
    codec: CursorCodec,
    scope: str,
    limit: int,
    cursor: str | None,
    offset: int,
) -> Select[Any]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be within 1..{MAX_LIMIT}")  # the route's parameter bounds it first
    if cursor:
        statement = statement.where(_after(keys, codec.decode(scope, cursor, len(keys))))
    statement = statement.order_by(*(term for key in keys for term in key.terms())).limit(limit + 1)
    if offset:
        statement = statement.offset(offset)
    return statement


def _page(rows: list[Any], keys: Sequence[SortKey], codec: CursorCodec, scope: str, limit: int) -> Page:
    """The page of rows read with one row more than limit: that row's presence says there is a next page."""
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = codec.encode(scope, [_sort_value(rows[-1], key) for key in keys])
    return Page(rows, next_cursor)


def _sort_value(row: Any, key: SortKey) -> Any:
    # A column selected by itself is in the row's mapping; otherwise it is an attribute of the entity.
    try:
        return row._mapping[key.column]
    except (KeyError, NoSuchColumnError):
        return getattr(row[0], key.column.key)
