"""The create/update body in OpenAPI: one schema per source type, chosen by ``type``.

Built from the connector registry (``datasources.services.types.request_schema``), so a
generated client gets one class per type, with that type's required fields, credential keys
and bounds. A PATCH body (every field optional, the type unchanged) keeps the plain schema.
"""
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent

from datasources.connectors import CONNECTORS
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.types import request_schema, trimmed_text_patterns


class UnsavedSourceInputSerializer(DataSourceInputSerializer):
    """Documentation only: the body of an unsaved connection test, where ``name`` is optional."""


def _name(type_name: str, suffix: str) -> str:
    return "".join(part.capitalize() for part in type_name.split("_")) + suffix


class DataSourceInputExtension(OpenApiSerializerExtension):
    target_class = DataSourceInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        if getattr(self.target, "partial", False) or direction != "request":
            schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
            trimmed_text_patterns(schema.get("properties", {}))
            for field in schema.get("properties", {}).values():
                if isinstance(field.get("type"), list):  # a nullable field whose own schema says null too
                    field["type"] = list(dict.fromkeys(field["type"]))
            return schema
        unsaved = isinstance(self.target, UnsavedSourceInputSerializer)
        mapping = {}
        for type_name, connector in CONNECTORS.items():
            schema = request_schema(connector, unsaved=unsaved)
            name = _name(type_name, "TestRequest" if unsaved else "SourceRequest")
            component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
            auto_schema.registry.register_on_missing(component)
            mapping[type_name] = component.ref["$ref"]
        return {
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }
