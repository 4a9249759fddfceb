"""OpenAPI schemas of request bodies say what the server enforces: no unknown fields, and the limits of list items."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition
from msgspec import Meta, UnsetType

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

# msgspec Meta constraints and the Schema attributes they become, for a string and for an array.
_STRING_LIMITS = {"min_length": "min_length", "max_length": "max_length", "pattern": "pattern"}
_ARRAY_LIMITS = {"min_length": "min_items", "max_length": "max_items"}


def _limits(metas: list[Meta], names: dict[str, str]) -> dict[str, Any]:
    return {names[key]: value for meta in metas for key in names if (value := getattr(meta, key, None)) is not None}


def _list_limits(annotation: Any, metas: tuple[Meta, ...] = ()) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The limits of a list field (its own, its items'), looking through `| None`, `| UnsetType` and Annotated."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg not in (type(None), UnsetType)]
        return next((found for arg in members if (found := _list_limits(arg)) is not None), None)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _list_limits(inner, (*metas, *(m for m in extra if isinstance(m, Meta))))
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        item_metas = [m for m in get_args(item)[1:] if isinstance(m, Meta)] if get_origin(item) is Annotated else []
        return _limits(list(metas), _ARRAY_LIMITS), _limits(item_metas, _STRING_LIMITS)
    return None


def _arrays(schema: Any) -> list[Schema]:
    """The array schemas in a property's schema (itself, or the members of its oneOf)."""
    if not isinstance(schema, Schema):
        return []
    found = [schema] if schema.type == "array" or schema.items is not None else []
    return found + [array for member in schema.one_of or () for array in _arrays(member)]


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's Struct schemas for request bodies, plus what Litestar leaves out and the server enforces.

    additionalProperties: false for forbid_unknown_fields Structs, and the msgspec limits on list
    items (scopes, permissions, roles, hosts) and on lists inside unions, which Litestar drops.
    Without them the published schema allows what the server refuses with 422, and clients
    (and schemathesis) are told something untrue.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        registered = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        registered.additional_properties = False
        for field in msgspec.structs.fields(field_definition.type_):
            limits = _list_limits(field.type)
            if limits is None:
                continue
            array_limits, item_limits = limits
            for array in _arrays((registered.properties or {}).get(field.encode_name)):
                for name, value in array_limits.items():
                    setattr(array, name, getattr(array, name) if getattr(array, name) is not None else value)
                if isinstance(array.items, Schema):
                    for name, value in item_limits.items():
                        setattr(array.items, name, value)
        return schema
