"""A schema change as a plan: the old and new definitions compared field by field id.

Comparing by id (not by name) is what makes a rename a rename: the column and its indexes keep their
data. The plan says what changes in plain words (the dry-run reply), whether SQLite must rebuild the
table, and which fields need their existing values checked; ddl.py carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Dialect

from backend.collections.definition import CollectionDef, FieldDef
from backend.collections.retypes import Retype, retype_rule
from backend.collections.tables import column_type
from backend.errors import Conflict, FieldError


class ChangeKind(StrEnum):
    """The kinds of change a plan lists."""

    ADD = "add"
    RENAME = "rename"
    DROP = "drop"
    RETYPE = "retype"
    REQUIRED = "required"
    UNIQUE = "unique"
    INDEX = "index"
    DEFAULT = "default"
    CONSTRAINTS = "constraints"
    OPTIONS = "options"
    RELATION = "relation"
    ORDER = "order"
    DESCRIPTION = "description"


@dataclass(frozen=True)
class Change:
    """One change, for people: its kind, the field's (new) name and what happens."""

    kind: ChangeKind
    field: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "field": self.field, "detail": self.detail}


@dataclass(frozen=True)
class SchemaPlan:
    """What turning old into new does."""

    old: CollectionDef
    new: CollectionDef
    changes: tuple[Change, ...]
    added: tuple[FieldDef, ...]
    dropped: tuple[FieldDef, ...]
    renamed: tuple[tuple[FieldDef, FieldDef], ...]  # (old, new)
    retyped: tuple[tuple[FieldDef, FieldDef, Retype], ...]
    rebuild: bool  # a column's SQL type changes: SQLite rebuilds the table

    @property
    def empty(self) -> bool:
        return not self.changes

    def kept(self) -> list[tuple[FieldDef, FieldDef]]:
        """Fields in both definitions, (old, new)."""
        return [(before, after) for after in self.new.fields if (before := self.old.field_by_id(after.id))]

    def details(self) -> dict[str, Any]:
        """The plan as the audit row keeps it."""
        return {"schema_version": self.new.schema_version, "changes": [c.to_json() for c in self.changes]}


def _sql_type(spec: FieldDef, dialect: Dialect) -> str:
    return str(column_type(spec).compile(dialect=dialect))


def _constraints_text(spec: FieldDef) -> str:
    limits = spec.constraints
    parts = [f"{name} {value}" for name, value in vars(limits).items() if value is not None]
    return ", ".join(parts) or "none"


def _compare(index: int, before: FieldDef, after: FieldDef, dialect: Dialect) -> tuple[list[Change], Retype | None]:
    name = after.name
    changes: list[Change] = []
    retype = None
    if before.name != after.name:
        changes.append(Change(ChangeKind.RENAME, name, f"{before.name} is renamed {after.name}; values are kept"))
    if before.relation and after.relation and before.relation.collection != after.relation.collection:
        raise Conflict(
            "A relation's target cannot change: its values are ids of the other collection's records.",
            errors=[FieldError(f"fields[{index}].relation", "add a new relation field instead")],
        )
    if (before.type, before.multiple) != (after.type, after.multiple):
        rule = retype_rule(before, after)
        if rule is None:
            raise Conflict(
                f"{name} cannot change from {_type_text(before)} to {_type_text(after)} without losing values.",
                errors=[FieldError(f"fields[{index}].type", f"{_type_text(before)} cannot become {_type_text(after)}")],
            )
        retype = rule
        how = "the table is rebuilt" if _sql_type(before, dialect) != _sql_type(after, dialect) else "in place"
        changes.append(Change(ChangeKind.RETYPE, name, f"{_type_text(before)} becomes {_type_text(after)} ({how})"))
    if before.required != after.required:
        changes.append(Change(ChangeKind.REQUIRED, name, "becomes required" if after.required else "becomes optional"))
    if before.unique != after.unique:
        detail = "becomes unique among live records" if after.unique else "no longer unique"
        changes.append(Change(ChangeKind.UNIQUE, name, detail))
    if before.indexed != after.indexed:
        changes.append(Change(ChangeKind.INDEX, name, "gets an index" if after.indexed else "loses its index"))
    if before.default != after.default:
        changes.append(Change(ChangeKind.DEFAULT, name, f"default for new records: {after.default!r}"))
    if before.constraints != after.constraints:
        changes.append(Change(ChangeKind.CONSTRAINTS, name, f"constraints: {_constraints_text(after)}"))
    if before.options != after.options:
        changes.append(Change(ChangeKind.OPTIONS, name, f"options: {', '.join(after.options) or 'none'}"))
    if before.relation != after.relation and after.relation is not None and before.relation is not None:
        changes.append(Change(ChangeKind.RELATION, name, f"on delete: {after.relation.on_delete.value}"))
    return changes, retype


def _type_text(spec: FieldDef) -> str:
    if spec.type.value == "select":
        return "select (several)" if spec.multiple else "select (one)"
    return spec.type.value


def plan_change(old: CollectionDef, new: CollectionDef, dialect: Dialect) -> SchemaPlan:
    """The plan turning old into new (same collection, fields matched by id); Conflict if a retype loses values."""
    changes: list[Change] = []
    old_ids = {spec.id for spec in old.fields}
    new_ids = {spec.id for spec in new.fields}
    added = tuple(spec for spec in new.fields if spec.id not in old_ids)
    dropped = tuple(spec for spec in old.fields if spec.id not in new_ids)
    renamed: list[tuple[FieldDef, FieldDef]] = []
    retyped: list[tuple[FieldDef, FieldDef, Retype]] = []
    rebuild = False
    for spec in dropped:
        changes.append(Change(ChangeKind.DROP, spec.name, f"{spec.name} and its values are removed"))
    for index, after in enumerate(new.fields):
        before = old.field_by_id(after.id)
        if before is None:
            filled = f"; existing records get {after.default!r}" if after.default is not None else ""
            changes.append(Change(ChangeKind.ADD, after.name, f"new {_type_text(after)} field{filled}"))
            continue
        field_changes, retype = _compare(index, before, after, dialect)
        changes += field_changes
        if before.name != after.name:
            renamed.append((before, after))
        if retype is not None:
            retyped.append((before, after, retype))
            rebuild = rebuild or _sql_type(before, dialect) != _sql_type(after, dialect)
    kept_old = [spec.id for spec in old.fields if spec.id in new_ids]
    kept_new = [spec.id for spec in new.fields if spec.id in old_ids]
    if kept_old != kept_new:
        changes.append(Change(ChangeKind.ORDER, "", "fields are reordered: " + ", ".join(s.name for s in new.fields)))
    if old.description != new.description:
        changes.append(Change(ChangeKind.DESCRIPTION, "", "the description changes"))
    return SchemaPlan(old, new, tuple(changes), added, dropped, tuple(renamed), tuple(retyped), rebuild)
