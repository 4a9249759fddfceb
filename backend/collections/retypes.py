"""Which type changes keep every value, and how a stored value converts.

Lossless only; anything else is refused (409) and the way out is a new field plus a copy by the client.

| from                                  | to                            | how                                      |
|---------------------------------------|-------------------------------|------------------------------------------|
| integer                               | number                        | CAST to REAL (table rebuild on SQLite)   |
| integer, number                       | text                          | CAST to TEXT (rebuild)                   |
| boolean                               | integer                       | 0/1 (rebuild)                            |
| text, email, url, select (one)        | text, email, url, select (one)| as is, when every live value passes      |
| relation                              | text                          | the related id, as is                    |
| text, email, url, select (one)        | select (several)              | [value], when every live value passes    |
| text, email, url, select (one/several)| json                          | the value as a JSON string, or the list  |
| integer, number, boolean              | json                          | the JSON number or true/false (rebuild)  |

Refused: to date/datetime/relation/integer/number from anything else (parsing text would guess),
select (several) to anything but json (a list does not fit one value), json to anything (any
shape may be stored), date/datetime to json (their stored form is not the API's ISO form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Text, case, cast, literal

from backend.collections.definition import FieldDef, FieldType
from backend.db.json_text import JsonArrayOf, JsonQuote

TEXT_LIKE = frozenset({FieldType.TEXT, FieldType.EMAIL, FieldType.URL})


@dataclass(frozen=True)
class Retype:
    """How one field's stored values become the new type's."""

    convert: Callable[[ColumnElement[Any]], ColumnElement[Any]] | None  # None: the stored value stays as it is
    check_values: bool  # every live value must pass the new field's rules first


def _kind(spec: FieldDef) -> str:
    if spec.type is FieldType.SELECT:
        return "select_many" if spec.multiple else "select_one"
    return spec.type.value


def _json_scalar(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return JsonQuote(column)


def _boolean_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((column == literal(True), literal("true")), else_=literal("false"))


_SINGLE = {"text", "email", "url", "select_one"}


def retype_rule(old: FieldDef, new: FieldDef) -> Retype | None:
    """The conversion from old's type to new's, or None when values could be lost."""
    before, after = _kind(old), _kind(new)
    if before == after:
        return Retype(None, check_values=False)
    if before == "integer" and after == "number":
        return Retype(lambda c: cast(c, Float()), check_values=False)
    if before in {"integer", "number"} and after == "text":
        return Retype(lambda c: cast(c, Text()), check_values=False)
    if before == "boolean" and after == "integer":
        return Retype(lambda c: cast(c, BigInteger()), check_values=False)
    if before in _SINGLE and after in _SINGLE:
        return Retype(None, check_values=after != "text")
    if before == "relation" and after == "text":
        return Retype(None, check_values=False)
    if before in _SINGLE and after == "select_many":
        return Retype(lambda c: JsonArrayOf(c), check_values=True)
    if after == "json":
        if before in _SINGLE:
            return Retype(_json_scalar, check_values=False)
        if before == "select_many":
            return Retype(None, check_values=False)
        if before in {"integer", "number"}:
            return Retype(lambda c: cast(c, Text()), check_values=False)
        if before == "boolean":
            return Retype(_boolean_json, check_values=False)
    return None


def converted(rule: Retype, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The new stored value for column (NULL stays NULL: json_quote(NULL) would be 'null')."""
    if rule.convert is None:
        return column
    return case((column.is_(None), None), else_=rule.convert(column))
