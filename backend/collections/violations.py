"""What the records already stored would break under a new definition: counts and a few ids.

Checked inside the writer transaction that applies the change (or the read snapshot of a dry run), so
no record slips in between the check and the change. Tombstones are not checked: they hold no live value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from backend.collections.definition import FieldDef, FieldType
from backend.collections.definition_rules import MOMENTS, NUMERIC, TEXTUAL, bound_value
from backend.collections.retypes import TEXT_LIKE
from backend.collections.schema_changes import SchemaPlan
from backend.collections.tables import record_table
from backend.collections.values import check_value
from backend.errors import FieldError

SAMPLE_IDS = 5
SCAN_BATCH = 2000


@dataclass(frozen=True)
class Violation:
    """Records that would break a rule: the field, the rule's place in the request, how many, a few ids."""

    field: str
    path: str
    message: str
    count: int
    sample_ids: tuple[str, ...]

    def error(self) -> FieldError:
        return FieldError(self.path, self.message)

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "count": self.count, "sample_ids": list(self.sample_ids)}


def value_problem(spec: FieldDef, value: Any) -> str | None:
    """Why a stored value does not fit spec (type, options, text limits), or None: values.check_value's answer."""
    return check_value(spec, value)[1]


def _checker(before: FieldDef, after: FieldDef) -> Callable[[Any], str | None]:
    """A check of old stored values against the new field, taking them as the retype would convert them."""
    to_list = after.type is FieldType.SELECT and after.multiple and not before.holds_json
    return lambda value: value_problem(after, [value] if to_list else value)


def _live(table: Table) -> ColumnElement[bool]:
    return ~table.c._deleted


def _empty(spec: FieldDef, column: ColumnElement[Any]) -> ColumnElement[bool]:
    raw = type_coerce(column, Text())  # compare the stored text, not a JSON-encoded literal
    if spec.holds_json and spec.type is FieldType.SELECT:
        return column.is_(None) | (raw == "[]")
    if spec.type in TEXT_LIKE or spec.type is FieldType.SELECT:
        return column.is_(None) | (raw == "")
    return column.is_(None)


async def _offenders(
    connection: AsyncConnection, table: Table, condition: ColumnElement[bool]
) -> tuple[int, list[str]]:
    where = _live(table) & condition
    count = (await connection.execute(select(func.count()).select_from(table).where(where))).scalar_one()
    if not count:
        return 0, []
    ids = (await connection.execute(select(table.c.id).where(where).order_by(table.c.id).limit(SAMPLE_IDS))).scalars()
    return int(count), list(ids)


async def _scan(
    connection: AsyncConnection, table: Table, column: ColumnElement[Any], problem: Callable[[Any], str | None]
) -> tuple[int, list[str]]:
    """Every live value through problem() in Python (patterns, options, email/url forms SQL cannot test)."""
    count, ids = 0, []
    statement = select(table.c.id, column).where(_live(table) & column.is_not(None)).order_by(table.c.id)
    result = await connection.stream(statement.execution_options(yield_per=SCAN_BATCH))
    async for record_id, value in result:
        if problem(value) is not None:
            count += 1
            if len(ids) < SAMPLE_IDS:
                ids.append(record_id)
    return count, ids


def _bounds(spec: FieldDef, column: ColumnElement[Any]) -> ColumnElement[bool] | None:
    limits = spec.constraints
    terms = []
    if spec.type in NUMERIC or spec.type in MOMENTS:
        if limits.min is not None:
            terms.append(column < literal(bound_value(spec, limits.min), column.type))
        if limits.max is not None:
            terms.append(column > literal(bound_value(spec, limits.max), column.type))
    if spec.type in TEXTUAL:
        if limits.min_length is not None:
            terms.append(func.length(column) < limits.min_length)
        if limits.max_length is not None:
            terms.append(func.length(column) > limits.max_length)
    if not terms:
        return None
    condition = terms[0]
    for term in terms[1:]:
        condition = condition | term
    return column.is_not(None) & condition


async def find_violations(connection: AsyncConnection, plan: SchemaPlan) -> list[Violation]:
    """Every rule of plan.new that live records of plan.old's table break, field by field."""
    table = record_table(plan.old)
    found: list[Violation] = []
    live_count: int | None = None
    retypes = {after.id: rule for _before, after, rule in plan.retyped}

    async def note(spec: FieldDef, path: str, message: str, result: tuple[int, list[str]]) -> None:
        count, ids = result
        if count:
            found.append(Violation(spec.name, path, message.format(count=count), count, tuple(ids)))

    for index, after in enumerate(plan.new.fields):
        at = f"fields[{index}]"
        before = plan.old.field_by_id(after.id)
        if before is None:  # a new field: every live record holds its default, or nothing
            if (after.required and after.default is None) or (after.unique and after.default is not None):
                if live_count is None:
                    live_count = (
                        await connection.execute(select(func.count()).select_from(table).where(_live(table)))
                    ).scalar_one()
                if live_count and (after.required or live_count > 1):
                    rule, why = (
                        ("required", "{count} records have no value")
                        if after.required
                        else (
                            "unique",
                            "{count} records would share the default value",
                        )
                    )
                    await note(after, f"{at}.{rule}", why, await _offenders(connection, table, literal(True)))
            continue
        column = table.c[before.name]
        retyped = after.id in retypes
        if after.required and (not before.required or retyped):
            await note(
                after,
                f"{at}.required",
                "{count} records have no value",
                await _offenders(connection, table, _empty(before, column)),
            )
        if after.unique and (not before.unique or retyped):
            raw = type_coerce(column, Text())
            shared = select(raw).where(_live(table) & column.is_not(None)).group_by(raw).having(func.count() > 1)
            await note(
                after,
                f"{at}.unique",
                "{count} records share a value with another",
                await _offenders(connection, table, raw.in_(shared)),
            )
        scan = (retyped and retypes[after.id].check_values) or (
            not retyped
            and (
                before.options != after.options
                or (after.type in TEXTUAL and before.constraints.pattern != after.constraints.pattern)
            )
        )
        if scan:
            path = (
                f"{at}.type" if retyped else f"{at}.options" if after.type is FieldType.SELECT else f"{at}.constraints"
            )
            await note(
                after,
                path,
                "{count} records hold values this field would not accept",
                await _scan(connection, table, column, _checker(before, after)),
            )
        elif before.constraints != after.constraints or retyped:
            same_kind = before.type == after.type or (before.type in NUMERIC and after.type in NUMERIC)
            condition = _bounds(after, column) if same_kind else None
            if condition is not None:
                await note(
                    after,
                    f"{at}.constraints",
                    "{count} records are outside the new limits",
                    await _offenders(connection, table, condition),
                )
    return found
