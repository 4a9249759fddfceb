"""Whether a collection's definition makes sense on its own: names, types, options, constraints, defaults.

These are 422s (the request is wrong whatever the data); what the stored records would break is
violations.py's concern (409).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from typing import Any

from backend.collections.definition import (
    FIELD_ID_PATTERN,
    FieldDef,
    FieldType,
    field_name_problem,
)
from backend.collections.values import check_value
from backend.errors import FieldError

MAX_PATTERN_LENGTH = 500
NUMERIC = frozenset({FieldType.INTEGER, FieldType.NUMBER})
MOMENTS = frozenset({FieldType.DATE, FieldType.DATETIME})
TEXTUAL = frozenset({FieldType.TEXT, FieldType.EMAIL, FieldType.URL})


def _parse_moment(kind: FieldType, value: Any) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if kind is FieldType.DATE:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def bound_value(spec: FieldDef, value: Any) -> Any:
    """A min/max constraint as a value of the field's type (a date, a datetime or a number)."""
    return _parse_moment(spec.type, value) if spec.type in MOMENTS else value


def _bound_problem(spec: FieldDef, value: Any) -> str | None:
    if value is None:
        return None
    if spec.type in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        return None
    if spec.type in MOMENTS:
        if _parse_moment(spec.type, value) is None:
            return (
                "must be an ISO 8601 date" if spec.type is FieldType.DATE else "must be an ISO 8601 time with its zone"
            )
        return None
    return "applies only to integer, number, date and datetime fields"


def _constraint_errors(at: str, spec: FieldDef) -> list[FieldError]:
    errors: list[FieldError] = []
    limits = spec.constraints
    for name in ("min", "max"):
        if problem := _bound_problem(spec, getattr(limits, name)):
            errors.append(FieldError(f"{at}.constraints.{name}", problem))
    bounded = not errors and limits.min is not None and limits.max is not None
    if bounded and bound_value(spec, limits.min) > bound_value(spec, limits.max):
        errors.append(FieldError(f"{at}.constraints.max", "must not be below min"))
    textual = [("min_length", limits.min_length), ("max_length", limits.max_length), ("pattern", limits.pattern)]
    for name, value in textual:
        if value is not None and spec.type not in TEXTUAL:
            errors.append(FieldError(f"{at}.constraints.{name}", "applies only to text, email and url fields"))
    if limits.min_length is not None and limits.max_length is not None and limits.min_length > limits.max_length:
        errors.append(FieldError(f"{at}.constraints.max_length", "must not be below min_length"))
    if limits.pattern is not None:
        try:
            re.compile(limits.pattern)
        except re.error as exc:
            errors.append(FieldError(f"{at}.constraints.pattern", f"is not a regular expression: {exc}"))
    return errors


def default_problem(spec: FieldDef, value: Any) -> str | None:
    """Why value cannot be the field's default (its type, options and limits), or None."""
    problem = check_value(spec, value)[1]
    return f"is not a valid default: {problem}" if problem else None


def field_errors(index: int, spec: FieldDef, known_collections: set[str]) -> list[FieldError]:
    """What is wrong with one field, each error named fields[index].<part>."""
    at = f"fields[{index}]"
    errors: list[FieldError] = []
    if not FIELD_ID_PATTERN.match(spec.id):
        errors.append(FieldError(f"{at}.id", "must be f and ten letters a-z or digits 2-7"))
    if problem := field_name_problem(spec.name):
        errors.append(FieldError(f"{at}.name", problem))
    if spec.type is FieldType.SELECT:
        if not spec.options:
            errors.append(FieldError(f"{at}.options", "a select field needs at least one option"))
        elif len(set(spec.options)) != len(spec.options):
            errors.append(FieldError(f"{at}.options", "options must differ from one another"))
    else:
        if spec.options:
            errors.append(FieldError(f"{at}.options", "only select fields have options"))
        if spec.multiple:
            errors.append(FieldError(f"{at}.multiple", "only select fields take several values"))
    if spec.type is FieldType.RELATION:
        if spec.relation is None:
            errors.append(FieldError(f"{at}.relation", "a relation field names the collection it points into"))
        elif spec.relation.collection not in known_collections:
            errors.append(FieldError(f"{at}.relation.collection", f"there is no collection {spec.relation.collection}"))
    elif spec.relation is not None:
        errors.append(FieldError(f"{at}.relation", "only relation fields point into a collection"))
    if spec.unique and spec.holds_json:
        errors.append(FieldError(f"{at}.unique", "json and multiple-choice fields cannot be unique"))
    errors += _constraint_errors(at, spec)
    if problem := default_problem(spec, spec.default):
        errors.append(FieldError(f"{at}.default", problem))
    return errors


def definition_errors(fields: tuple[FieldDef, ...], known_collections: set[str]) -> list[FieldError]:
    """Every problem with a list of fields (known_collections includes the collection itself)."""
    errors: list[FieldError] = []
    for index, spec in enumerate(fields):
        errors += field_errors(index, spec, known_collections)
    names = Counter(spec.name for spec in fields)
    ids = Counter(spec.id for spec in fields)
    for index, spec in enumerate(fields):
        if names[spec.name] > 1:
            errors.append(FieldError(f"fields[{index}].name", f"{spec.name} names more than one field"))
        if ids[spec.id] > 1:
            errors.append(FieldError(f"fields[{index}].id", f"{spec.id} is given to more than one field"))
    return errors
