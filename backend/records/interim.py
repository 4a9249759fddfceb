"""Stand-ins for modules other branches of issue 10 are writing, with the same names and signatures.

Each goes when its real module lands: check_value (backend/collections/values.py), parse_sort
(backend/collections/sort_param.py), compile_filter (backend/collections/filter_sql.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement

from backend.collections.definition import FieldDef, FieldType
from backend.errors import BadRequest, FieldError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 100_000


@dataclass(frozen=True)
class FilterColumn:
    """A column the filter language may name: the SQL column, its field type, whether it holds a list."""

    column: Any
    type: FieldType | str
    multiple: bool = False


class FilterError(BadRequest):
    """The filter text is not valid; names the position."""


def compile_filter(text: str, columns: Mapping[str, FilterColumn]) -> ColumnElement[bool]:
    """Only the empty filter until the filter language lands."""
    raise FilterError(
        "The filter language is not available yet.",
        errors=[FieldError("filter", "is not supported yet at position 0")],
        extra={"position": 0},
    )


def parse_sort(text: str, sortable: Collection[str]) -> list[tuple[str, bool]]:
    """ "name,-created_at" as [(name, descending)]; an unknown or repeated name is a 400 naming it."""
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-").removeprefix("+")
        if name not in sortable:
            raise BadRequest(
                f"Cannot sort by {name!r}.",
                errors=[FieldError("sort", f"{name!r} is not a field that can be sorted by")],
            )
        if any(name == seen for seen, _ in keys):
            raise BadRequest(f"{name} is named twice.", errors=[FieldError("sort", f"{name} is named twice")])
        keys.append((name, descending))
    return keys


def _number_problem(spec: FieldDef, value: float) -> str | None:
    low, high = spec.constraints.min, spec.constraints.max
    if isinstance(low, int | float) and value < low:
        return f"must be at least {low}"
    if isinstance(high, int | float) and value > high:
        return f"must be at most {high}"
    return None


def _text_problem(spec: FieldDef, value: str) -> str | None:
    c = spec.constraints
    if c.min_length is not None and len(value) < c.min_length:
        return f"must be at least {c.min_length} characters"
    if len(value) > (c.max_length if c.max_length is not None else MAX_TEXT):
        return f"must be at most {c.max_length if c.max_length is not None else MAX_TEXT} characters"
    if c.pattern and not re.fullmatch(c.pattern, value):
        return f"must match the pattern {c.pattern}"
    return None


def _moment_problem(spec: FieldDef, value: date) -> str | None:
    low, high = spec.constraints.min, spec.constraints.max
    kind = type(value)
    parse = datetime.fromisoformat if kind is datetime else date.fromisoformat
    try:
        if isinstance(low, str) and value < parse(low):
            return f"must be on or after {low}"
        if isinstance(high, str) and value > parse(high):
            return f"must be on or before {high}"
    except (ValueError, TypeError):
        return None
    return None


def check_value(spec: FieldDef, value: Any) -> tuple[Any, str | None]:
    """value validated and normalised for spec's column (None passes: required is the caller's rule)."""
    if value is None:
        return None, None
    match spec.type:
        case FieldType.TEXT | FieldType.EMAIL | FieldType.URL:
            if not isinstance(value, str):
                return None, "must be text"
            if spec.type is FieldType.EMAIL and not _EMAIL.match(value):
                return None, "must be an email address"
            if spec.type is FieldType.URL:
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    return None, "must be an http(s) URL"
            return value, _text_problem(spec, value)
        case FieldType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, "must be a whole number"
            if isinstance(value, float) and not value.is_integer():
                return None, "must be a whole number"
            if not -(2**63) <= value < 2**63:
                return None, "is out of range for a 64-bit integer"
            return int(value), _number_problem(spec, value)
        case FieldType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return None, "must be a number"
            if abs(value) > 1.7976931348623157e308:
                return None, "is out of range"
            return float(value), _number_problem(spec, float(value))
        case FieldType.BOOLEAN:
            return (value, None) if isinstance(value, bool) else (None, "must be true or false")
        case FieldType.DATE:
            try:
                day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
            except ValueError:
                day = None
            if day is None:
                return None, "must be a date as YYYY-MM-DD"
            return day, _moment_problem(spec, day)
        case FieldType.DATETIME:
            try:
                moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                moment = None
            if moment is None or moment.tzinfo is None:
                return None, "must be an RFC 3339 date and time with a zone (Z or ±hh:mm)"
            try:
                moment = moment.astimezone(UTC)
            except OverflowError:
                return None, "is out of range: in UTC it must fall between the years 1 and 9999"
            return moment, _moment_problem(spec, moment)
        case FieldType.SELECT:
            if spec.multiple:
                if not isinstance(value, list) or not all(isinstance(one, str) for one in value):
                    return None, "must be a list of options"
                unknown = [one for one in value if one not in spec.options]
                if unknown:
                    return None, f"{unknown[0]!r} is not one of the options"
                return list(dict.fromkeys(value)), None
            if not isinstance(value, str) or value not in spec.options:
                return None, f"must be one of {', '.join(spec.options)}"
            return value, None
        case FieldType.JSON:
            return value, None
        case FieldType.RELATION:
            if not isinstance(value, str) or not value or len(value) > 64:
                return None, "must be the id of a record"
            return value, None
    return None, "is of an unknown type"


def to_json(spec: FieldDef, value: Any) -> Any:
    """A column's value in the record's JSON form."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
