"""One field's values: checked and normalised on the way in, shown as JSON on the way out.

`check_value` answers the value to store and None, or None and why the value cannot be kept; the
record service collects the answers of every field so a reply names every bad field at once.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from backend.collections.definition import FieldDef, FieldType
from backend.db.types import utc_range_problem

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_EMAIL_LENGTH = 254  # RFC 5321's path limit
MAX_URL_LENGTH = 2048
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Checked = tuple[Any, str | None]


def is_blank(spec: FieldDef, value: Any) -> bool:
    """Whether value counts as no value for a required field (null, empty text, no options chosen)."""
    if value is None:
        return True
    if isinstance(value, str) and spec.type is not FieldType.JSON:
        return value == ""
    return spec.type is FieldType.SELECT and spec.multiple and value == []


def check_value(spec: FieldDef, value: Any) -> Checked:
    """(the value to store, None), or (None, why it cannot be stored); null passes (required is the caller's rule)."""
    if value is None:
        return None, None
    match spec.type:
        case FieldType.TEXT:
            return _text(spec, value)
        case FieldType.INTEGER:
            return _integer(spec, value)
        case FieldType.NUMBER:
            return _number(spec, value)
        case FieldType.BOOLEAN:
            return (value, None) if isinstance(value, bool) else (None, "must be true or false")
        case FieldType.DATE:
            return _date(spec, value)
        case FieldType.DATETIME:
            return _datetime(spec, value)
        case FieldType.EMAIL:
            return _email(spec, value)
        case FieldType.URL:
            return _url(spec, value)
        case FieldType.SELECT:
            return _select(spec, value)
        case FieldType.JSON:
            return value, None
        case FieldType.RELATION:
            return _relation(value)
    return None, f"has an unknown type {spec.type}"  # pragma: no cover - FieldType is closed


def to_api(spec: FieldDef, stored: Any) -> Any:
    """A stored value as the API shows it (dates and times as ISO 8601 text, UTC with Z)."""
    if stored is None:
        return None
    if spec.type is FieldType.DATETIME and isinstance(stored, datetime):
        return stored.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if spec.type is FieldType.DATE and isinstance(stored, date):
        return stored.isoformat()
    return stored


def _length_problem(spec: FieldDef, text: str) -> str | None:
    limits = spec.constraints
    if limits.min_length is not None and len(text) < limits.min_length:
        return f"must be at least {limits.min_length} characters long"
    if limits.max_length is not None and len(text) > limits.max_length:
        return f"must be at most {limits.max_length} characters long"
    return None


def _text(spec: FieldDef, value: Any) -> Checked:
    if not isinstance(value, str):
        return None, "must be text"
    if "\x00" in value:
        return None, "must not contain the NUL character"  # PostgreSQL text cannot hold it
    problem = _length_problem(spec, value)
    if problem:
        return None, problem
    pattern = spec.constraints.pattern
    if pattern is not None and re.search(pattern, value) is None:
        return None, f"must match the pattern {pattern}"
    return value, None


def _range_problem(spec: FieldDef, value: Any, parse: Any = float) -> str | None:
    limits = spec.constraints
    # A bound the collection's definition could not parse for this type limits nothing (the
    # collection service refuses such definitions; this keeps a bad stored one from raising).
    low = _bound(parse, limits.min)
    high = _bound(parse, limits.max)
    if low is not None and value < low:
        return f"must be at least {_bound_text(limits.min)}"
    if high is not None and value > high:
        return f"must be at most {_bound_text(limits.max)}"
    return None


def _bound_text(limit: Any) -> str:
    """A bound as a person writes it: 100, not the 100.0 a definition's JSON may hold."""
    return str(int(limit)) if isinstance(limit, float) and limit.is_integer() else str(limit)


def _bound(parse: Any, limit: Any) -> Any:
    if limit is None:
        return None
    try:
        return parse(limit)
    except (TypeError, ValueError):
        return None


def _integer(spec: FieldDef, value: Any) -> Checked:
    if isinstance(value, bool) or not isinstance(value, int):
        return None, "must be a whole number"
    if not INT64_MIN <= value <= INT64_MAX:
        return None, "must fit in 64 bits (between -9223372036854775808 and 9223372036854775807)"
    problem = _range_problem(spec, value)
    return (None, problem) if problem else (value, None)


def _number(spec: FieldDef, value: Any) -> Checked:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, "must be a number"
    number = float(value)
    if not math.isfinite(number):
        return None, "must be a finite number"
    problem = _range_problem(spec, number)
    return (None, problem) if problem else (number, None)


def parse_date(text: str) -> date | None:
    """An ISO calendar date YYYY-MM-DD, or None."""
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """An ISO 8601 date and time with a UTC offset, as UTC; None when it is not one (or has no offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or utc_range_problem(moment):
        return None
    return moment.astimezone(UTC)


def _date(spec: FieldDef, value: Any) -> Checked:
    day = parse_date(value) if isinstance(value, str) else None
    if day is None:
        return None, "must be a date as YYYY-MM-DD"
    problem = _range_problem(spec, day, date.fromisoformat)
    return (None, problem) if problem else (day, None)


def _datetime(spec: FieldDef, value: Any) -> Checked:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return None, "must be an ISO 8601 date and time with a time zone, such as 2026-05-01T09:30:00Z"
    problem = _range_problem(spec, moment, parse_datetime)
    return (None, problem) if problem else (moment, None)


def _email(spec: FieldDef, value: Any) -> Checked:
    if not isinstance(value, str) or len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        return None, "must be an email address such as name@example.org"
    problem = _length_problem(spec, value)
    return (None, problem) if problem else (value, None)


def _url(spec: FieldDef, value: Any) -> Checked:
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH or any(c.isspace() for c in value):
        return None, "must be an http or https URL"
    try:
        parts = urlsplit(value)
    except ValueError:
        return None, "must be an http or https URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "must be an http or https URL"
    problem = _length_problem(spec, value)
    return (None, problem) if problem else (value, None)


def _select(spec: FieldDef, value: Any) -> Checked:
    allowed = ", ".join(spec.options)
    if not spec.multiple:
        if isinstance(value, str) and value in spec.options:
            return value, None
        return None, f"must be one of: {allowed}"
    if not isinstance(value, list) or not all(isinstance(one, str) for one in value):
        return None, f"must be a list of options from: {allowed}"
    unknown = [one for one in value if one not in spec.options]
    if unknown:
        return None, f"{unknown[0]} is not an option (options: {allowed})"
    if len(set(value)) != len(value):
        return None, "must not name an option twice"
    return list(value), None


def _relation(value: Any) -> Checked:
    if not isinstance(value, str):
        return None, "must be the id of a record"
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None, "must be the id of a record"
    return str(parsed), None
