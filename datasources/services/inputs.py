"""The one declaration of a data source's input fields: ``DataSourceInputSerializer`` with ``DEFAULTS``.

Each field is declared here once, with its JSON type and bounds; the rest derives from it: the
service's model fields (``services.sources``), the admin form and its fieldsets
(``admin.source_fields``), the flags of ``manage.py create_datasource``, the read shape's fields
beyond the spec (``api.serializers``) and the per-type OpenAPI bodies and /types schemas
(``services.types``). A new field is one line here plus its rule (and its model column).

Cross-field rules (what a type requires, SSH, connection strings, stored files) live in
``datasources.services.rules`` and run inside the service, so that the API, the admin and the CLI
share them. The response shape is ``datasources.api.serializers``.
"""
import json
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasources.connectors import TYPE_CHOICES
from datasources.security.secret_refs import REF_KEY, is_reference
from datasources.security.tls import MODES, parse_tls
from rivergen.fields import (
    OptionalCharField,
    StrictBooleanField,
    StrictCharField,
    StrictDictField,
    StrictIntegerField,
    StrictListField,
)
from rivergen.serializers import FieldsOnceSerializer

METADATA_MAX_BYTES = 16 * 1024
MAX_TAGS = 50
MAX_TAG_LENGTH = 64

# Fields with a default: null (or, on create, absence) takes the default.
DEFAULTS = {
    "use_ssh_tunnel": False,
    "ssh_port": 22,
    "connection_pool_size": 5,
    "connection_timeout": 30,
    "query_timeout": 300,
    "max_retries": 3,
    "schema_auto_refresh": True,
    "schema_refresh_interval": 3600,
    "metadata": {},
    "tags": [],
}


def _int(low, high):
    return StrictIntegerField(required=False, allow_null=True, min_value=low, max_value=high)


def _bool():
    return StrictBooleanField(required=False, allow_null=True)


@extend_schema_field({"oneOf": [
    {"type": "string"}, {"type": "null"},
    {"type": "object", "required": ["secret_ref"], "additionalProperties": False,
     "properties": {"secret_ref": {"type": "string", "maxLength": 1024,
                                   "description": "<provider>:<reference>, e.g. env:RG_SECRET_ORG_1_PG"}}},
]})
class CredentialValueField(serializers.Field):
    """A credential's value: a string, null (remove it), or a reference to a secret kept elsewhere."""

    default_error_messages = {"invalid": 'Must be a string, null or {{"secret_ref": "<provider>:<reference>"}}.'}

    def to_internal_value(self, data):
        if data is None or isinstance(data, str):
            return data
        if not is_reference(data) or len(data[REF_KEY]) > 1024 or "\x00" in data[REF_KEY]:
            self.fail("invalid")
        return {REF_KEY: data[REF_KEY]}


def _has_unstorable_text(value) -> bool:
    """True when a key or string holds NUL or a lone surrogate: PostgreSQL's jsonb and
    UTF-8 itself cannot store them, so saving would fail with a 500."""
    stack = [value]
    while stack:  # a loop, not recursion: nesting depth is the client's choice
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode()
            except UnicodeEncodeError:
                return True
    return False


# 0 turns scheduled checks off; otherwise 30 s to a day. Spelled once, for the parser and the schema.
HEALTH_INTERVAL_SCHEMA = {"anyOf": [
    {"type": "integer", "const": 0}, {"type": "integer", "minimum": 30, "maximum": 86400}, {"type": "null"},
], "description": "Seconds between scheduled connection checks; 0 turns them off."}


@extend_schema_field(HEALTH_INTERVAL_SCHEMA)
class HealthIntervalField(StrictIntegerField):
    json_schema = HEALTH_INTERVAL_SCHEMA
    default_error_messages = {"range": "Must be 0 (no scheduled checks) or between 30 and 86400 seconds."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if 0 < value < 30:
            self.fail("range")
        return value


# Accepted and ignored: the specification's deprecated key, and the read shape's read-only keys
# (a body read, edited and sent back stays valid). Any other unknown key is a 400.
# tests/api/test_first_hour.py checks READ_ONLY_KEYS against the read shape.
READ_ONLY_KEYS = frozenset({
    "id", "organization_id", "ssh_key_id", "status", "last_tested_at", "last_successful_connection_at",
    "last_failed_connection_at", "failure_count", "failure_reason", "schema_discovered_at",
    "created_by_user_id", "created_at", "updated_at", "updated_by_user_id",
    "credentials_set", "credentials_readable", "has_connection_string", "latest_discovery", "server_certificate",
    "credential_references",
})
IGNORED_KEYS = READ_ONLY_KEYS | {"storage_file_id"}


PEM_SCHEMA = {"type": ["string", "null"], "description": "PEM text, at most 64 KiB"}
TLS_SCHEMA = {
    "type": ["object", "null"], "additionalProperties": False, "required": ["mode"],
    "properties": {"mode": {"enum": list(MODES)}, "ca_certificate": PEM_SCHEMA, "client_certificate": PEM_SCHEMA},
    "description": "TLS to the source; null or {} takes the type's default mode. The client key is "
                   "credentials.tls_client_key.",
}


@extend_schema_field(TLS_SCHEMA)
class TlsField(StrictDictField):
    """``{"mode", "ca_certificate", "client_certificate"}``, checked by ``security.tls``."""
    json_schema = TLS_SCHEMA

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return parse_tls(value or None)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {key.removeprefix("tls.") if key != "tls" else "non_field_errors": messages
                 for key, messages in exc.message_dict.items()}
            ) from None


class DataSourceInputSerializer(FieldsOnceSerializer):
    """Parses a create or update body. An unknown top-level key is a 400 listing the accepted ones
    (a typo must never silently drop a setting), except ``IGNORED_KEYS``."""

    workspace_id = StrictIntegerField(required=False, allow_null=True, min_value=1)
    name = StrictCharField(max_length=255)
    type = serializers.ChoiceField(choices=TYPE_CHOICES, error_messages={
        "invalid_choice": '"{input}" is not a supported data source type.',
    })
    description = OptionalCharField(max_length=2000, trim_whitespace=False)
    host = OptionalCharField(max_length=255)
    port = _int(1, 65535)
    database_name = OptionalCharField(max_length=255)
    schema_name = OptionalCharField(max_length=255)
    connection_string = OptionalCharField(max_length=4096, write_only=True)
    file_path = StrictCharField(required=False, allow_null=True, max_length=1024, error_messages={
        "blank": "file_path cannot be empty.",
    })
    use_ssh_tunnel = _bool()
    ssh_host = OptionalCharField(max_length=255)
    ssh_port = _int(1, 65535)
    ssh_username = OptionalCharField(max_length=255)
    ssh_local_port = _int(1024, 65535)
    connection_pool_size = _int(1, 100)
    connection_timeout = _int(1, 3600)
    query_timeout = _int(1, 86400)
    max_retries = _int(0, 10)
    schema_auto_refresh = _bool()
    schema_refresh_interval = _int(60, 2592000)
    health_check_interval = HealthIntervalField(required=False, allow_null=True, min_value=0, max_value=86400)
    tls = TlsField(required=False, allow_null=True)
    credentials = StrictDictField(child=CredentialValueField(allow_null=True), write_only=True)
    metadata = StrictDictField(required=False, allow_null=True)
    tags = StrictListField(
        child=StrictCharField(max_length=MAX_TAG_LENGTH, error_messages={"blank": "Tags cannot be empty."}),
        required=False,
        allow_null=True,
    )

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields and key not in IGNORED_KEYS)
            if unknown:
                accepted = ", ".join(name for name, field in self.fields.items() if not field.read_only)
                raise serializers.ValidationError(
                    {key: [f"Unknown field. The accepted fields are: {accepted}."] for key in unknown}
                )
        return super().to_internal_value(data)

    def validate_name(self, value):
        return value.strip()

    def validate_metadata(self, value):
        if value is not None and len(json.dumps(value).encode()) > METADATA_MAX_BYTES:
            raise serializers.ValidationError(f"Must be at most {METADATA_MAX_BYTES // 1024} KiB as JSON.")
        if value is not None and _has_unstorable_text(value):
            raise serializers.ValidationError("Must not contain NUL characters or unpaired surrogates.")
        return value

    def validate_tags(self, value):
        if value is None:
            return value
        unique = list(dict.fromkeys(tag.strip() for tag in value))
        if len(unique) > MAX_TAGS:
            raise serializers.ValidationError(f"At most {MAX_TAGS} tags are allowed.")
        return unique

    def validate(self, attrs):
        interval = attrs.get("health_check_interval", ...)
        if interval is None or (interval is ... and not self.partial):  # its default comes from the settings
            attrs["health_check_interval"] = settings.HEALTH_CHECK_INTERVAL_SECONDS
        for field, default in DEFAULTS.items():
            if attrs.get(field, ...) is None or (field not in attrs and not self.partial):
                attrs[field] = default.copy() if isinstance(default, (dict, list)) else default
        return attrs
