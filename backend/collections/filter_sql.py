"""Filter trees as SQLAlchemy Core conditions: every value bound as a parameter, the same answers on every engine.

Semantics, chosen so a filter means what a person reading it expects:
- A field with no value (NULL) fails every positive test (`=`, `>`, `~`, `in`, ...) and passes every
  negative one: `status != 'open'` and `status !~ 'x'` include rows with no status.
- `!F` selects exactly the rows `F` does not select (the negation is pushed down to the comparisons with
  the rule above, so SQL's three-valued NOT never drops a row with NULLs).
- `= null` / `!= null` are IS NULL / IS NOT NULL; `null` in an in-list matches the empty field.
- `~` / `!~`: case-insensitive contains, Unicode-wide ("É" ~ "é"); `%` and `_` are plain characters.
- Text, email, url, select and relation fields compare by code point; dates and datetimes take ISO text
  (a datetime given as a date is midnight UTC; one without an offset is UTC).
- A multiple select (a JSON array of options in a text column): `~ 'a'` holds when the array has option
  `a`, `!~ 'a'` when it has not, `in (...)` when it has any of them, `= null` when it has none.
- A json field answers only `= null` / `!= null`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Integer, String, Text, and_, cast, false, literal, not_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from backend.collections.filter_language import (
    And,
    Comparison,
    FilterError,
    Literal,
    Membership,
    Node,
    Not,
    Or,
    parse_filter,
)
from backend.db.sqlite import UNICODE_LOWER
from backend.db.types import utc_range_problem

__all__ = ["FilterColumn", "FilterError", "compile_filter"]

TEXT_TYPES = frozenset({"text", "email", "url", "select", "relation"})
ORDERED_TYPES = TEXT_TYPES | {"integer", "number", "date", "datetime"}
_ORDERING = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_NEGATIVE = {"!=": "=", "!~": "~"}


@dataclass(frozen=True)
class FilterColumn:
    """A field a filter may name: its SQL column and its field type."""

    column: ColumnElement[Any]
    type: str  # "text","integer","number","boolean","date","datetime","email","url","select","json","relation"
    multiple: bool = False  # a select with several values, kept as a JSON array in a text column

    def __post_init__(self) -> None:
        if self.type not in _CONVERTERS:
            raise ValueError(f"no filter semantics for field type {self.type!r}")


def compile_filter(text: str, columns: Mapping[str, FilterColumn]) -> ColumnElement[bool]:
    """The SQL condition of a filter over the given fields (true for blank text); FilterError if it is not one."""
    tree = parse_filter(text)
    if tree is None:
        return true()
    return _condition(tree, columns, negated=False)


def _condition(node: Node, columns: Mapping[str, FilterColumn], *, negated: bool) -> ColumnElement[bool]:
    if isinstance(node, Not):
        return _condition(node.operand, columns, negated=not negated)
    if isinstance(node, And | Or):
        parts = [_condition(operand, columns, negated=negated) for operand in node.operands]
        # De Morgan: under a negation, && becomes || and || becomes &&.
        return and_(*parts) if isinstance(node, And) != negated else or_(*parts)
    spec = columns.get(node.field)
    if spec is None:
        raise FilterError(f"unknown field {node.field[:40]!r}", position=node.position)
    if isinstance(node, Membership):
        test = _membership(node, spec)
    else:
        op = _NEGATIVE.get(node.op, node.op)
        test = _comparison(node, op, spec)
        negated = negated != (op != node.op)
    return test.negated(spec.column) if negated else test.condition


@dataclass(frozen=True)
class _Test:
    """A positive condition, and whether it is already true or false (never NULL) on an empty field."""

    condition: ColumnElement[bool]
    two_valued: bool = False

    def negated(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        """Exactly the rows the condition does not select, empty fields included."""
        if self.two_valued:
            return not_(self.condition)
        return or_(column.is_(None), not_(self.condition))


def _comparison(node: Comparison, op: str, spec: FilterColumn) -> _Test:
    column, value = spec.column, node.value
    if value.value is None:
        if op != "=":
            raise FilterError("null can only be compared with = or !=", position=node.op_position)
        if spec.multiple:
            return _Test(or_(column.is_(None), not_(JsonArrayHas(column))), two_valued=True)
        if spec.type == "json":
            return _Test(or_(column.is_(None), cast(column, Text) == literal("null", String())), two_valued=True)
        return _Test(column.is_(None), two_valued=True)
    if spec.type == "json":
        raise FilterError(f"{node.field} is a json field: it can only be compared with null", position=node.op_position)
    if op == "~":
        if spec.type not in TEXT_TYPES:
            raise FilterError(f"~ needs a text field; {node.field} is {spec.type}", position=node.op_position)
        operand = _value(node.field, spec, value)
        if spec.multiple:
            return _Test(JsonArrayHas(column, literal(operand, String())))
        needle = LowerText(literal(operand, String()))
        return _Test(TextPosition(LowerText(column), needle) > 0)
    if spec.multiple:
        raise FilterError(
            f"{node.field} holds several options: use ~ to test for one, or in (...) for any of several",
            position=node.op_position,
        )
    if op == "=":
        return _Test(column == _value(node.field, spec, value))
    if spec.type not in ORDERED_TYPES:
        raise FilterError(f"{op} cannot order a {spec.type} field ({node.field})", position=node.op_position)
    return _Test(_ORDERING[op](column, _value(node.field, spec, value)))


def _membership(node: Membership, spec: FilterColumn) -> _Test:
    if spec.type == "json":
        raise FilterError(f"{node.field} is a json field: it can only be compared with null", position=node.op_position)
    wants_empty = any(item.value is None for item in node.values)
    values = [_value(node.field, spec, item) for item in node.values if item.value is not None]
    column = spec.column
    if spec.multiple:
        has = JsonArrayHas(column, *(literal(v, String()) for v in values)) if values else false()
        if wants_empty:
            return _Test(or_(column.is_(None), not_(JsonArrayHas(column)), has), two_valued=True)
        return _Test(has)
    listed = column.in_(values) if values else false()
    if wants_empty:
        return _Test(or_(column.is_(None), listed), two_valued=True)
    return _Test(listed)


def _value(field: str, spec: FilterColumn, literal_: Literal) -> Any:
    """The literal as the Python value the field's column binds, or FilterError at the literal."""
    try:
        converted = _CONVERTERS[spec.type](literal_.value)
    except ValueError as refusal:  # the right kind of literal, but not a valid value (a date that is not one)
        raise FilterError(str(refusal), position=literal_.position) from None
    if converted is None:
        article = "an" if spec.type[0] in "aeiou" else "a"
        message = f"{field} is {article} {spec.type} field: {_EXPECTED[spec.type]}"
        raise FilterError(message, position=literal_.position)
    if isinstance(converted, date) and _binds_text(spec.column):
        return converted.isoformat()
    return converted


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.combine(date.fromisoformat(value), time(), UTC)  # a date alone: that day's start in UTC
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO datetime (YYYY-MM-DDTHH:MM:SSZ)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if problem := utc_range_problem(moment):
        raise ValueError(f"{value!r} {problem}")
    return moment.astimezone(UTC)


def _never(value: object) -> None:
    return None


_CONVERTERS: dict[str, Callable[[object], Any]] = {
    "text": _text,
    "email": _text,
    "url": _text,
    "select": _text,
    "relation": _text,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "json": _never,
}
_EXPECTED = {
    "text": "compare it with a quoted string",
    "email": "compare it with a quoted string",
    "url": "compare it with a quoted string",
    "select": "compare it with a quoted option",
    "relation": "compare it with a quoted record id",
    "integer": "compare it with a whole number",
    "number": "compare it with a number",
    "boolean": "compare it with true or false",
    "date": "compare it with a quoted ISO date ('2024-05-31')",
    "datetime": "compare it with a quoted ISO datetime ('2024-05-31T08:00:00Z')",
    "json": "it can only be compared with null",
}


def _binds_text(column: ColumnElement[Any]) -> bool:
    """Whether a column keeps dates as plain text (so a date value must be bound as ISO text)."""
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


class LowerText(FunctionElement[str]):
    """Unicode lower case: PostgreSQL's lower(), and on SQLite the stand-in registered on every connection."""

    type = Text()
    name = "lower_text"
    inherit_cache = True


@compiles(LowerText)
def _lower_text(element: LowerText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(LowerText, "postgresql")
def _lower_text_postgresql(element: LowerText, compiler: SQLCompiler, **kw: Any) -> str:
    # Text columns compare by code point (COLLATE "C"), and under "C" lower() folds ASCII only: the fold takes
    # the database's own collation, which knows all of Unicode.
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "default")'


@compiles(LowerText, "sqlite")
def _lower_text_sqlite(element: LowerText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{UNICODE_LOWER}({compiler.process(element.clauses, **kw)})"


class TextPosition(FunctionElement[int]):
    """Where the second text starts in the first, from 1 (0 when absent): strpos() / SQLite's instr()."""

    type = Integer()
    name = "text_position"
    inherit_cache = True


@compiles(TextPosition)
def _text_position(element: TextPosition, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(TextPosition, "sqlite")
def _text_position_sqlite(element: TextPosition, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


class JsonArrayHas(FunctionElement[bool]):
    """Whether a JSON array kept as text holds any of the given values (with none given: holds anything)."""

    type = Boolean()
    name = "json_array_has"
    inherit_cache = True


@compiles(JsonArrayHas)
def _json_array_has(element: JsonArrayHas, compiler: SQLCompiler, **kw: Any) -> str:
    array, *values = [compiler.process(clause, **kw) for clause in element.clauses]
    if not values:
        return f"(jsonb_array_length(CAST({array} AS JSONB)) > 0)"
    return f"(CAST({array} AS JSONB) ?| ARRAY[{', '.join(values)}])"


@compiles(JsonArrayHas, "sqlite")
def _json_array_has_sqlite(element: JsonArrayHas, compiler: SQLCompiler, **kw: Any) -> str:
    array, *values = [compiler.process(clause, **kw) for clause in element.clauses]
    where = f" WHERE json_option.value IN ({', '.join(values)})" if values else ""
    return f"EXISTS (SELECT 1 FROM json_each({array}) AS json_option{where})"
