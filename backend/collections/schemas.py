"""Request and response bodies of /api/v1/collections, and their conversion to and from definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from backend.collections.definition import (
    FIELD_ID_PATTERN,
    NAME_PATTERN,
    Constraints,
    FieldDef,
    FieldType,
    OnDelete,
    Relation,
)
from backend.collections.service import ChangePreview, CollectionView

MAX_FIELDS = 200
MAX_OPTIONS = 200

CollectionName = Annotated[str, Meta(pattern=NAME_PATTERN.pattern, description="Lowercase letters, digits and _")]
FieldName = Annotated[
    str,
    Meta(
        pattern=NAME_PATTERN.pattern,
        description="Lowercase letters, digits and _; not a system field's name (id, created_at, ...)",
    ),
]
FieldId = Annotated[str, Meta(pattern=FIELD_ID_PATTERN.pattern, description="The field's stable id")]
Description = Annotated[str, Meta(max_length=1000)]
Option = Annotated[str, Meta(min_length=1, max_length=200)]
Bound = Annotated[float, Meta(description="A number")] | Annotated[str, Meta(max_length=40, description="ISO 8601")]
Length = Annotated[int, Meta(ge=0, le=1_000_000)]


class ConstraintsBody(Struct, forbid_unknown_fields=True):
    """Limits on values: min/max for numbers, dates and times (ISO 8601); lengths and pattern for text."""

    min: Bound | None = None
    max: Bound | None = None
    min_length: Length | None = None
    max_length: Length | None = None
    pattern: Annotated[str, Meta(max_length=500, description="A regular expression values must contain")] | None = None


class RelationBody(Struct, forbid_unknown_fields=True):
    """The collection a relation points into (it must exist) and what deleting a related record does."""

    collection: CollectionName
    on_delete: OnDelete = OnDelete.RESTRICT


class FieldBody(Struct, forbid_unknown_fields=True):
    """A field; with an id it is that existing field (a new name renames it), without one it is new."""

    name: FieldName
    type: FieldType
    id: FieldId | None = None
    required: bool = False
    unique: bool = False
    indexed: bool = False
    default: Annotated[Any, Meta(description="For new records (and existing ones, when the field is added)")] = None
    constraints: ConstraintsBody | None = None
    options: Annotated[list[Option], Meta(max_length=MAX_OPTIONS)] = []
    multiple: bool = False
    relation: RelationBody | None = None

    def definition(self) -> FieldDef:
        """As a FieldDef (id "" when new)."""
        limits = self.constraints or ConstraintsBody()
        return FieldDef(
            id=self.id or "",
            name=self.name,
            type=self.type,
            required=self.required,
            unique=self.unique,
            indexed=self.indexed,
            default=self.default,
            constraints=Constraints(limits.min, limits.max, limits.min_length, limits.max_length, limits.pattern),
            options=tuple(self.options),
            multiple=self.multiple,
            relation=Relation(self.relation.collection, self.relation.on_delete) if self.relation else None,
        )


Fields = Annotated[list[FieldBody], Meta(max_length=MAX_FIELDS)]


class CollectionCreate(Struct, forbid_unknown_fields=True):
    """A new collection."""

    name: CollectionName
    fields: Fields = []
    description: Description = ""


class CollectionPatch(Struct, forbid_unknown_fields=True):
    """What to change: fields is the whole new list (an existing field left out is dropped)."""

    description: Description | UnsetType = UNSET
    fields: Fields | UnsetType = UNSET
    schema_version: (
        Annotated[int, Meta(ge=1, description="The version the change was made against: 409 if it moved on")]
        | UnsetType
    ) = UNSET


class ConstraintsView(Struct):
    """A field's limits."""

    min: float | str | None
    max: float | str | None
    min_length: int | None
    max_length: int | None
    pattern: str | None


class RelationView(Struct):
    """Where a relation points and its on-delete rule."""

    collection: str
    on_delete: OnDelete


class FieldView(Struct):
    """A field as stored."""

    id: str
    name: str
    type: FieldType
    required: bool
    unique: bool
    indexed: bool
    default: Any
    constraints: ConstraintsView
    options: list[str]
    multiple: bool
    relation: RelationView | None


class CollectionBody(Struct):
    """A collection: its fields, schema version and live record count."""

    id: str
    name: str
    description: str
    schema_version: int
    created_at: datetime
    updated_at: datetime
    record_count: int
    fields: list[FieldView]


class CollectionList(Struct):
    """A page of collections, by name, and the cursor of the next page (null on the last)."""

    items: list[CollectionBody]
    next_cursor: str | None


class ChangeView(Struct):
    """One change a schema change makes."""

    kind: str
    field: str
    detail: str


class ViolationView(Struct):
    """Records that break a rule of the new definition: how many and a few ids."""

    field: str
    count: int
    sample_ids: list[str]


class ChangePreviewBody(Struct):
    """What a change would do (dry run): nothing was changed."""

    changes: list[ChangeView]
    rebuild: bool
    violations: list[ViolationView]
    schema_version: int


def field_view(spec: FieldDef) -> FieldView:
    limits = spec.constraints
    return FieldView(
        id=spec.id,
        name=spec.name,
        type=spec.type,
        required=spec.required,
        unique=spec.unique,
        indexed=spec.indexed,
        default=spec.default,
        constraints=ConstraintsView(limits.min, limits.max, limits.min_length, limits.max_length, limits.pattern),
        options=list(spec.options),
        multiple=spec.multiple,
        relation=RelationView(spec.relation.collection, spec.relation.on_delete) if spec.relation else None,
    )


def collection_body(view: CollectionView) -> CollectionBody:
    """The reply for a collection."""
    definition = view.definition
    assert definition.created_at is not None
    assert definition.updated_at is not None
    return CollectionBody(
        id=definition.id,
        name=definition.name,
        description=definition.description,
        schema_version=definition.schema_version,
        created_at=definition.created_at,
        updated_at=definition.updated_at,
        record_count=view.record_count,
        fields=[field_view(spec) for spec in definition.fields],
    )


def preview_body(preview: ChangePreview) -> ChangePreviewBody:
    """The reply of a dry run."""
    return ChangePreviewBody(
        changes=[ChangeView(c.kind.value, c.field, c.detail) for c in preview.plan.changes],
        rebuild=preview.plan.rebuild,
        violations=[ViolationView(v.field, v.count, list(v.sample_ids)) for v in preview.violations],
        schema_version=preview.plan.new.schema_version if not preview.plan.empty else preview.plan.old.schema_version,
    )
