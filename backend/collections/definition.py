"""What a collection is: its fields, their types and rules, as immutable values with a JSON form.

Fields keep a stable id, so a rename is a rename (the column is renamed) rather than a drop and an add;
a record table's indexes are named by field id for the same reason.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FIELD_ID_PATTERN = re.compile(r"^f[a-z2-7]{10}$")
# Record JSON puts these beside the fields; a field may not take their names (nor any name starting with "_").
SYSTEM_FIELDS = ("id", "created_at", "updated_at", "created_by", "updated_by")
FILTER_WORDS = ("in", "true", "false", "null")  # words of the filter language: a field so named could not be filtered
TABLE_PREFIX = "c_"
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


class FieldType(StrEnum):
    """The kinds of value a field holds."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    EMAIL = "email"
    URL = "url"
    SELECT = "select"
    JSON = "json"
    RELATION = "relation"


class OnDelete(StrEnum):
    """What deleting a related record does to the records that point at it."""

    RESTRICT = "restrict"
    CASCADE = "cascade"
    SET_NULL = "set_null"


@dataclass(frozen=True)
class Constraints:
    """Limits on a field's values: min/max for numbers and dates, length and pattern for text."""

    min: float | str | None = None  # a number, or an ISO date/datetime for date fields
    max: float | str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class Relation:
    """The collection a relation field points into, and its on-delete rule."""

    collection: str
    on_delete: OnDelete = OnDelete.RESTRICT


@dataclass(frozen=True)
class FieldDef:
    """One field of a collection."""

    id: str
    name: str
    type: FieldType
    required: bool = False
    unique: bool = False
    indexed: bool = False
    default: Any = None
    constraints: Constraints = field(default_factory=Constraints)
    options: tuple[str, ...] = ()  # select only
    multiple: bool = False  # select only: a list of options rather than one
    relation: Relation | None = None  # relation only

    @property
    def holds_json(self) -> bool:
        """Whether the column keeps JSON (a json field, or a select of several values)."""
        return self.type is FieldType.JSON or (self.type is FieldType.SELECT and self.multiple)

    def to_json(self) -> dict[str, Any]:
        """The field as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type.value,
            "required": self.required,
            "unique": self.unique,
            "indexed": self.indexed,
            "default": self.default,
            "constraints": {
                "min": self.constraints.min,
                "max": self.constraints.max,
                "min_length": self.constraints.min_length,
                "max_length": self.constraints.max_length,
                "pattern": self.constraints.pattern,
            },
            "options": list(self.options),
            "multiple": self.multiple,
            "relation": (
                {"collection": self.relation.collection, "on_delete": self.relation.on_delete.value}
                if self.relation
                else None
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldDef:
        """A field from its stored (already validated) JSON form."""
        relation = data.get("relation")
        return cls(
            id=data["id"],
            name=data["name"],
            type=FieldType(data["type"]),
            required=bool(data.get("required", False)),
            unique=bool(data.get("unique", False)),
            indexed=bool(data.get("indexed", False)),
            default=data.get("default"),
            constraints=Constraints(**(data.get("constraints") or {})),
            options=tuple(data.get("options") or ()),
            multiple=bool(data.get("multiple", False)),
            relation=Relation(relation["collection"], OnDelete(relation["on_delete"])) if relation else None,
        )


@dataclass(frozen=True)
class CollectionDef:
    """A collection: a named, described list of fields, and the version of that schema."""

    id: str
    name: str
    fields: tuple[FieldDef, ...]
    description: str = ""
    schema_version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def table_name(self) -> str:
        """The SQL table holding the records."""
        return TABLE_PREFIX + self.name

    def field_named(self, name: str) -> FieldDef | None:
        """The field called name, if any."""
        return next((one for one in self.fields if one.name == name), None)

    def field_by_id(self, field_id: str) -> FieldDef | None:
        """The field with this id, if any."""
        return next((one for one in self.fields if one.id == field_id), None)

    def with_fields(self, fields: tuple[FieldDef, ...]) -> CollectionDef:
        """This collection with other fields and the next schema version."""
        return replace(self, fields=fields, schema_version=self.schema_version + 1)

    def fields_json(self) -> list[dict[str, Any]]:
        """The fields as stored and shown."""
        return [one.to_json() for one in self.fields]


def new_field_id() -> str:
    """A fresh field id: "f" and ten base32 letters."""
    return "f" + "".join(secrets.choice(_BASE32) for _ in range(10))


def name_problem(name: str, *, what: str = "name") -> str | None:
    """Why name cannot name a collection or field, or None."""
    if not NAME_PATTERN.match(name):
        return f"{what} must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 63)"
    return None


def field_name_problem(name: str) -> str | None:
    """Why name cannot name a field, or None."""
    if name in SYSTEM_FIELDS:
        return f"{name} is a system field's name"
    if name in FILTER_WORDS:
        return f"{name} is a word of the filter language"
    return name_problem(name, what="a field name")
