"""The type registry (``GET /types``) and the per-type OpenAPI bodies, derived, not declared:
labels, ports, required fields and credential keys come from the connectors; field types and
bounds from ``DataSourceInputSerializer``; credential header patterns from ``rules``.
"""
import re
from functools import cache

from rest_framework import serializers

from datasources.connectors import CONNECTORS
from datasources.services.inputs import DEFAULTS, TLS_SCHEMA, DataSourceInputSerializer
from datasources.services.rules import HEADER_CREDENTIALS
from rivergen.fields import (
    StrictBooleanField,
    StrictDictField,
    StrictIntegerField,
    StrictListField,
)

# What every create needs, whatever the type (the specification's required fields): ``credentials``
# too, as ``{}`` when the type has no secrets (a stored file).
ALWAYS_REQUIRED = ["name", "type", "credentials"]

# Configuration fields that are not part of a source's connection settings.
NOT_CONFIGURATION = ("workspace_id", "name", "description", "credentials", "metadata", "tags")
SSH_FIELDS = ("use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_local_port")


@cache
def type_registry() -> list[dict]:
    return [_describe(connector) for connector in CONNECTORS.values()]


def _describe(connector) -> dict:
    secret = set(connector.all_secret_keys())
    return {
        "type": connector.type_name,
        "label": connector.label,
        "family": connector.family,
        "default_port": connector.default_port,
        "always_required": list(ALWAYS_REQUIRED),
        "required_fields": [list(option) for option in connector.required],
        "connection_string_schemes": list(connector.schemes),
        "credential_keys": [
            {"name": key, "secret": key in secret} for key in connector.accepted_credential_keys()
        ],
        "configuration_schema": _configuration_schema(connector),
    }


def _configuration_schema(connector) -> dict:
    fields = DataSourceInputSerializer().fields
    properties = {
        name: _field_schema(field, DEFAULTS.get(name))
        for name, field in fields.items() if name not in NOT_CONFIGURATION
    }
    properties["type"] = {"const": connector.type_name}
    if not connector.schemes:
        properties.pop("connection_string")
    if not any("file_path" in option for option in connector.required):
        properties.pop("file_path")
    if connector.family == "files":  # read through the storage backend, never over a tunnel
        for name in SSH_FIELDS:
            properties.pop(name)
    if connector.default_port is not None and "port" in properties:
        # Not a "default": the specification makes port required with host and database name
        # (a missing port is a 400); this is the value to send when unsure.
        properties["port"]["examples"] = [connector.default_port]
        properties["port"]["description"] = (
            f"Required unless connection_string is given; {connector.label}'s usual port is {connector.default_port}."
        )
    properties["credentials"] = _credentials_schema(connector)
    properties["tls"] = _tls_schema(connector)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{connector.label} configuration",
        "type": "object",
        "properties": properties,
        "required": ["type", "credentials"],
    }
    options = [_required(option) for option in connector.required]
    if len(options) == 1:
        schema["allOf"] = options
    elif len(options) == 2:  # "the second option, or else the first": if/else keeps one object per type
        schema["if"], schema["else"] = options[1], options[0]
    elif options:
        schema["anyOf"] = options
    return schema


def _required(option) -> dict:
    return {"required": list(option), "properties": {name: {"not": {"type": "null"}} for name in option}}


def _credentials_schema(connector) -> dict:
    secret = set(connector.all_secret_keys())
    properties = {}
    for key in connector.accepted_credential_keys():
        properties[key] = {"type": ["string", "null"]}
        if key in secret:
            properties[key].update(writeOnly=True, format="password")
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _field_schema(field, default) -> dict:
    if hasattr(field, "json_schema"):  # a rule simple bounds cannot say, spelled by the field itself
        return {**field.json_schema, **({"default": default} if default is not None else {})}
    if isinstance(field, StrictBooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, StrictIntegerField):
        schema = {"type": "integer"}
        _copy(schema, minimum=field.min_value, maximum=field.max_value)
    elif isinstance(field, StrictDictField):
        schema = {"type": "object"}
    elif isinstance(field, StrictListField):
        schema = {"type": "array", "items": {"type": "string"}}
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        _copy(schema, maxLength=field.max_length)
    else:
        schema = {}
    if field.allow_null and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if default is not None:
        schema["default"] = default
    if field.write_only:
        schema.update(writeOnly=True)
    return schema


def _copy(schema, **values):
    schema.update({k: v for k, v in values.items() if v is not None})


# The create/update body of one type, as an OpenAPI 3.1 (JSON Schema) object: the same fields,
# bounds and credential keys as above, plus what every source has. What no schema can say
# (a stored file must exist, a connection string must parse) is left to the service's 400.
# Text is trimmed (str.strip) before its length is checked and blank counts as absent, so a
# maxLength would be wrong: a pattern says "at most N characters once trimmed". SPACE is exactly
# what str.strip() removes, spelled out because JSON Schema's \\s is not Python's.
SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def trimmed_text(max_length: int, *, required: bool) -> str:
    space, solid = f"[{SPACE}]", f"[^{SPACE}]"
    core = solid if max_length == 1 else f"{solid}(?:[\\s\\S]{{0,{max_length - 2}}}{solid})?"
    return f"^{space}*{core}{space}*$" if required else f"^{space}*(?:{core})?{space}*$"


HEADER_PATTERNS = {key: f"^{pattern.pattern}$" for key, pattern in HEADER_CREDENTIALS.items()}


def trimmed_text_patterns(properties: dict) -> dict:
    """Replace the maxLength of trimmed text fields by their pattern (in place)."""
    fields = DataSourceInputSerializer().fields
    for name, field in fields.items():
        length = properties.get(name, {}).get("maxLength")
        if length and isinstance(field, serializers.CharField) and field.trim_whitespace:
            properties[name].pop("maxLength")
            properties[name].pop("minLength", None)
            properties[name]["pattern"] = trimmed_text(length, required=not field.allow_blank)
    return properties


def _tls_schema(connector) -> dict:
    """The type's own modes and default, rather than every mode for every type."""
    if not connector.tls_modes:
        return {"type": "null", "description": f"{connector.label} sources do not connect over TLS: tls must be null."}
    schema = {**TLS_SCHEMA, "properties": {**TLS_SCHEMA["properties"], "mode": {"enum": list(connector.tls_modes)}}}
    schema["description"] = (f"TLS to the source; null or {{}} means {connector.tls_default}. The client key is "
                             "credentials.tls_client_key.")
    return schema


def request_schema(connector, *, unsaved: bool = False) -> dict:
    """``unsaved``: the body of a connection test, where the name may be left out."""
    fields = DataSourceInputSerializer().fields
    properties = {name: _field_schema(fields[name], None) for name in NOT_CONFIGURATION if name != "credentials"}
    properties["workspace_id"]["maximum"] = 2**63 - 1
    properties["tags"].update(maxItems=50)
    properties["tags"]["items"] = {"type": "string", "pattern": trimmed_text(64, required=True)}
    configuration = _configuration_schema(connector)
    properties.update(configuration["properties"])
    trimmed_text_patterns(properties)
    properties["type"] = {"type": "string", "const": connector.type_name}
    for key, pattern in HEADER_PATTERNS.items():
        if key in properties["credentials"]["properties"]:
            properties["credentials"]["properties"][key]["pattern"] = pattern
    for name, schema in properties.items():
        schema.pop("default", None)
    if "connection_string" in properties:
        schemes = "|".join(re.escape(scheme) for scheme in connector.schemes)
        properties["connection_string"].update(pattern=f"^(?:{schemes})://\\S+$", maxLength=4096)
    schema = {
        "type": "object",
        "title": f"{connector.label} {'connection test' if unsaved else 'source'}",
        "properties": properties,
        "required": ["type", "credentials"] if unsaved else ["name", "type", "credentials"],
    }
    options = [_present(option, properties, fields) for option in connector.required]
    if len(options) == 1:
        schema["required"] += options[0]["required"]
        schema["properties"].update(options[0]["properties"])
    elif len(options) == 2:  # "the second option, or else the first": if/else keeps one object per type
        schema["if"], schema["else"] = options[1], options[0]
    elif options:
        schema["anyOf"] = options
    return schema


def _present(option, properties, fields) -> dict:
    """Each field of ``option`` given: not null, and text not blank."""
    present = {}
    for name in option:
        base = dict(properties[name])
        kind = base.get("type")
        base["type"] = [t for t in kind if t != "null"][0] if isinstance(kind, list) else kind
        if base["type"] == "string" and name != "connection_string":
            base["pattern"] = trimmed_text(fields[name].max_length, required=True)
        present[name] = base
    return {"required": list(option), "properties": present}
