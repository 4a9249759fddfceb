"""OpenAPI schemas of request bodies that refuse unknown fields say so (additionalProperties: false)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's Struct schemas, plus additionalProperties: false for forbid_unknown_fields Structs.

    Without it the published schema allows extra fields the server refuses with 422, and clients
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
        return schema
