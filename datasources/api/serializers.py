"""The response shapes of a data source: the spec's keys, then which secrets are set."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasources.api.schema_serializers import DiscoverySerializer

from datasources.models import DataSource
from datasources.security.crypto import Unreadable
from datasources.selectors.discoveries import latest_discovery
from datasources.services.credentials import references_of, secrets_set
from datasources.services.expiry import current_certificate
from datasources.services.inputs import DataSourceInputSerializer, TlsField
from rivergen.serializers import renderer


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


# Input fields the spec's response leaves out (readable ones only): read and list responses add them.
EXTRA_FIELDS = [
    name for name, field in DataSourceInputSerializer._declared_fields.items()
    if not field.write_only and name not in DataSourceSerializer.Meta.fields
]

# The 201 of a create, built from the class above without DRF's per-field work per response.
data_source_data = renderer(DataSourceSerializer)


class ServerCertificateSerializer(serializers.Serializer):
    subject = serializers.CharField()
    issuer = serializers.CharField()
    not_after = serializers.DateTimeField()
    days_left = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="SHA-256 of the certificate (DER), hex")


class WatchedCertificateSerializer(ServerCertificateSerializer):
    expiring = serializers.BooleanField(help_text="within TLS_CERTIFICATE_WARNING_DAYS of not_after")


class DataSourceDetailSerializer(DataSourceSerializer):
    """Read, list and update responses: the spec's keys, then which secrets are stored.

    ``credentials_set`` names the secret credential fields that hold a value (never
    the values); ``credentials_readable`` is false when the stored credentials
    cannot be decrypted with the configured keys (see rotate_encryption_keys).
    """

    credentials_set = serializers.SerializerMethodField()
    credentials_readable = serializers.SerializerMethodField()
    has_connection_string = serializers.SerializerMethodField()
    server_certificate = serializers.SerializerMethodField(
        help_text="The server certificate of the last successful test; days_left as of now")
    credential_references = serializers.SerializerMethodField(
        help_text='Credentials that name a secret kept elsewhere, as written: {key: "<provider>:<reference>"}',
    )
    # The model's JSON column would show as any value: read it through its input declaration's shape.
    tls = TlsField(read_only=True)

    class Meta(DataSourceSerializer.Meta):
        fields = DataSourceSerializer.Meta.fields + EXTRA_FIELDS + [
            "credentials_set", "credentials_readable", "has_connection_string", "server_certificate",
            "credential_references",
        ]
        read_only_fields = fields

    def get_credentials_set(self, source) -> list[str]:
        return secrets_set(source) or []

    def get_credentials_readable(self, source) -> bool:
        return isinstance(source.credentials, dict) and not isinstance(source.connection_string, Unreadable)

    def get_has_connection_string(self, source) -> bool:
        return bool(source.connection_string)

    @extend_schema_field(WatchedCertificateSerializer(allow_null=True))
    def get_server_certificate(self, source):
        return current_certificate(source)

    def get_credential_references(self, source) -> dict[str, str]:
        return references_of(source)


class DataSourceReadSerializer(DataSourceDetailSerializer):
    """The read of one source (GET /data-sources/{id}): the detail, then its latest discovery, so that
    the one queued after a create can be found (the list leaves it out: one more query per row)."""

    latest_discovery = serializers.SerializerMethodField()

    class Meta(DataSourceDetailSerializer.Meta):
        fields = DataSourceDetailSerializer.Meta.fields + ["latest_discovery"]
        read_only_fields = fields

    @extend_schema_field(DiscoverySerializer(allow_null=True))
    def get_latest_discovery(self, source):
        discovery = latest_discovery(source)
        return DiscoverySerializer(discovery).data if discovery else None


# Response shapes of the other operations: named so that a generated client gets one class each.

class TlsOutcomeSerializer(serializers.Serializer):
    encrypted = serializers.BooleanField()
    verified = serializers.BooleanField()
    protocol = serializers.CharField(allow_null=True, help_text="TLSv1.2, TLSv1.3…")
    server_certificate = ServerCertificateSerializer(allow_null=True)


class TestStepSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=["resolve", "ssh_tunnel", "connect", "tls", "authenticate", "read_catalogue"])
    status = serializers.ChoiceField(choices=["passed", "failed", "skipped"])
    duration_ms = serializers.IntegerField()
    error_code = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_null=True)


class ConnectionTestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["succeeded", "failed"])
    error_code = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_blank=True)
    latency_ms = serializers.IntegerField()
    server_version = serializers.CharField(allow_null=True)
    tested_at = serializers.DateTimeField()
    tls = TlsOutcomeSerializer(allow_null=True, help_text="What the handshake achieved; null when it did not happen")
    steps = TestStepSerializer(many=True, help_text="In order; after a failed step the rest are skipped")


class CredentialKeySerializer(serializers.Serializer):
    name = serializers.CharField()
    secret = serializers.BooleanField()


class DataSourceTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    family = serializers.CharField()
    default_port = serializers.IntegerField(allow_null=True, help_text="The type's usual port (not applied when port is left out)")
    always_required = serializers.ListField(child=serializers.CharField(), help_text="Required for every type")
    required_fields = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    connection_string_schemes = serializers.ListField(child=serializers.CharField())
    credential_keys = CredentialKeySerializer(many=True)
    configuration_schema = serializers.DictField(help_text="A JSON Schema (2020-12) of the type's settings")
