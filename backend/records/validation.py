"""A record body checked against its collection: every field's error at once, or the values to write."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from backend.collections.definition import FieldDef, FieldType
from backend.collections.values import check_value, is_blank
from backend.errors import FieldError, ValidationFailed
from backend.records.shape import READ_ONLY_FIELDS, RecordShape

# Whether a related record exists (live) in a collection: None if it does, else why not.
RelationCheck = Callable[[FieldDef, str], str | None]


class Mode(Enum):
    """What the body is: a new record, a whole replacement, or some fields to change."""

    CREATE = "create"
    REPLACE = "replace"
    PATCH = "patch"


@dataclass(frozen=True)
class CheckedBody:
    """A body checked on its own: the column values it sets and its problems, relations not looked up yet.

    Relations are looked up by the write itself, in its transaction, so the related record cannot go
    between the check and the write; the rest needs no database and is checked before the write's trip.
    """

    shape: RecordShape
    values: dict[str, Any]
    errors: dict[str, str]

    def valid_values(self, relation_problem: RelationCheck) -> dict[str, Any]:
        """The values once every relation they name is found; else ValidationFailed with every problem."""
        errors = dict(self.errors)
        for spec in self.shape.definition.fields:
            value = self.values.get(spec.name)
            checkable = spec.type is FieldType.RELATION and value is not None and spec.name not in errors
            if checkable and (problem := relation_problem(spec, value)):
                errors[spec.name] = problem
        if errors:
            order = {name: index for index, name in enumerate(self.shape.fields)}
            ordered = sorted(errors.items(), key=lambda item: order.get(item[0], len(order)))
            raise ValidationFailed(
                "The record is not valid: see errors.",
                errors=[FieldError(name, message) for name, message in ordered],
            )
        return self.values


def checked_body(shape: RecordShape, body: Mapping[str, Any], mode: Mode) -> CheckedBody:
    """The column values body sets (defaults filled in on create and replace) and what is wrong with it."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, value in body.items():
        if name in READ_ONLY_FIELDS:
            continue  # a record read and sent back carries them; the server owns them
        spec = shape.fields.get(name)
        if spec is None:
            errors[name] = "is not a field of this collection"
            continue
        normal, problem = check_value(spec, value)
        if problem:
            errors[name] = problem
        else:
            values[name] = normal
    if mode is not Mode.PATCH:
        for spec in shape.definition.fields:
            if spec.name not in body:
                values[spec.name] = _default(spec, errors)
    for spec in shape.definition.fields:
        applies = mode is not Mode.PATCH or spec.name in values
        if spec.required and applies and spec.name not in errors and is_blank(spec, values.get(spec.name)):
            errors[spec.name] = "is required"
    return CheckedBody(shape, values, errors)


def _default(spec: FieldDef, errors: dict[str, str]) -> Any:
    if spec.default is None:
        return None
    value, problem = check_value(spec, spec.default)
    if problem:  # the collection service checks defaults; a bad one is still named, not written
        errors[spec.name] = f"its default {problem}"
    return value
