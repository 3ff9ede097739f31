"""Parsing of data source input (JSON types and bounds) and the response shape.

Cross-field rules (what a type requires, SSH, connection strings, stored files)
live in ``datasources.rules`` and run inside the service, so that the API, the
admin and the CLI share them.
"""
import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasources.connectors import TYPE_CHOICES, connector_for
from datasources.crypto import Unreadable
from datasources.fields import (
    OptionalCharField,
    StrictBooleanField,
    StrictCharField,
    StrictDictField,
    StrictIntegerField,
    StrictListField,
)
from datasources.models import DataSource

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


@extend_schema_field({"type": "string", "nullable": True})
class CredentialValueField(serializers.Field):
    default_error_messages = {"invalid": "Must be a string or null."}

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, str):
            self.fail("invalid")
        return data


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


class DataSourceInputSerializer(serializers.Serializer):
    """Parses a create or update body. Unknown top-level keys are ignored."""

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
    credentials = StrictDictField(child=CredentialValueField(allow_null=True), write_only=True)
    metadata = StrictDictField(required=False, allow_null=True)
    tags = StrictListField(
        child=StrictCharField(max_length=MAX_TAG_LENGTH, error_messages={"blank": "Tags cannot be empty."}),
        required=False,
        allow_null=True,
    )

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
        for field, default in DEFAULTS.items():
            if attrs.get(field, ...) is None or (field not in attrs and not self.partial):
                attrs[field] = default.copy() if isinstance(default, (dict, list)) else default
        return attrs


class DataSourceSerializer(serializers.ModelSerializer):
    """The response: exactly the spec's keys, in the spec's order."""

    organization_id = serializers.IntegerField(read_only=True)
    workspace_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_by_user_id = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    updated_by_user_id = serializers.IntegerField(source="updated_by_id", read_only=True, allow_null=True)
    metadata = serializers.JSONField(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = DataSource
        fields = [
            "id", "organization_id", "workspace_id", "name", "type", "description",
            "host", "port", "database_name", "schema_name", "file_path",
            "use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_key_id", "ssh_local_port",
            "connection_pool_size", "connection_timeout", "query_timeout", "max_retries",
            "status", "last_tested_at", "last_successful_connection_at", "last_failed_connection_at",
            "failure_count", "failure_reason", "schema_discovered_at",
            "schema_auto_refresh", "schema_refresh_interval", "metadata", "tags",
            "created_by_user_id", "created_at", "updated_at", "updated_by_user_id",
        ]
        read_only_fields = fields


class DataSourceDetailSerializer(DataSourceSerializer):
    """Read, list and update responses: the spec's keys, then which secrets are stored.

    ``credentials_set`` names the secret credential fields that hold a value (never
    the values); ``credentials_readable`` is false when the stored credentials
    cannot be decrypted with the configured keys (see rotate_encryption_keys).
    """

    credentials_set = serializers.SerializerMethodField()
    credentials_readable = serializers.SerializerMethodField()
    has_connection_string = serializers.SerializerMethodField()

    class Meta(DataSourceSerializer.Meta):
        fields = DataSourceSerializer.Meta.fields + [
            "credentials_set", "credentials_readable", "has_connection_string",
        ]
        read_only_fields = fields

    def get_credentials_set(self, source) -> list[str]:
        credentials = source.credentials
        if not isinstance(credentials, dict):
            return []
        secret_keys = connector_for(source.type).all_secret_keys()
        return [key for key in secret_keys if credentials.get(key) not in (None, "")]

    def get_credentials_readable(self, source) -> bool:
        return isinstance(source.credentials, dict) and not isinstance(source.connection_string, Unreadable)

    def get_has_connection_string(self, source) -> bool:
        return bool(source.connection_string)
