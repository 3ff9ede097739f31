"""The create/update body in OpenAPI: one schema per source type, chosen by ``type``.

Built from the connector registry (``datasources.services.types.request_schema``), so a
generated client gets one class per type, with that type's required fields, credential keys
and bounds. A PATCH body (every field optional, the type unchanged) keeps the plain schema.
"""
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent

from datasources.connectors import CONNECTORS
from datasources.services.types import request_schema


def component_name(type_name: str) -> str:
    return "".join(part.capitalize() for part in type_name.split("_")) + "SourceRequest"


class DataSourceInputExtension(OpenApiSerializerExtension):
    target_class = "datasources.services.inputs.DataSourceInputSerializer"

    def map_serializer(self, auto_schema, direction):
        if getattr(self.target, "partial", False) or direction != "request":
            return auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        mapping = {}
        for type_name, connector in CONNECTORS.items():
            component = ResolvedComponent(
                name=component_name(type_name), type=ResolvedComponent.SCHEMA,
                object=component_name(type_name), schema=request_schema(connector),
            )
            auto_schema.registry.register_on_missing(component)
            mapping[type_name] = component.ref["$ref"]
        return {
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }
