"""Response shapes of discovery and the stored catalogue (they document the OpenAPI and shape changes)."""
from rest_framework import serializers

from datasources.models import Discovery, SchemaChange, SchemaTable


class SchemaColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    data_type = serializers.CharField()
    nullable = serializers.BooleanField()
    primary_key = serializers.BooleanField()
    position = serializers.IntegerField(help_text="The database's ordinal position (gaps after dropped columns stay)")
    default = serializers.CharField(allow_null=True, help_text="The default expression, as the database shows it")
    comment = serializers.CharField(allow_null=True)
    generated = serializers.CharField(allow_null=True, help_text="A generated column's expression")
    hidden = serializers.BooleanField(help_text="Left out of SELECT * (MariaDB INVISIBLE)")


class SchemaTableSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=SchemaTable.Kind.choices)
    partition_count = serializers.IntegerField(allow_null=True, help_text="Partitioned tables only")
    comment = serializers.CharField(allow_null=True)
    column_count = serializers.IntegerField()
    columns = SchemaColumnSerializer(many=True)


class SchemaGroupSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True, help_text="null for sources without schemas")
    tables = SchemaTableSerializer(many=True)


class SchemaPageSerializer(serializers.Serializer):
    schema_discovered_at = serializers.DateTimeField(allow_null=True)
    count = serializers.IntegerField(help_text="Tables matching the filters")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    schemas = SchemaGroupSerializer(many=True)


class SchemaExportLineSerializer(SchemaTableSerializer):
    """One NDJSON line of the export: a table with its schema and columns."""
    schema = serializers.CharField(allow_null=True)


class ChangeCountsSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    changed = serializers.IntegerField()
    breaking = serializers.IntegerField()


class DiscoveryQueuedSerializer(serializers.Serializer):
    discovery_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Discovery.Status.choices, help_text="Always queued")


class DiscoverySerializer(serializers.Serializer):
    discovery_id = serializers.IntegerField(source="pk")
    data_source_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Discovery.Status.choices)
    table_count = serializers.IntegerField(allow_null=True)
    column_count = serializers.IntegerField(allow_null=True)
    changes = ChangeCountsSerializer(
        source="changes_summary", allow_null=True,
        help_text="What this discovery changed in the stored catalogue; all 0 for the first (baseline); "
                  "null until it succeeds",
    )
    error_code = serializers.CharField(allow_null=True)
    error_message = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class SchemaChangeSerializer(serializers.ModelSerializer):
    discovery_id = serializers.IntegerField()
    schema = serializers.CharField(source="schema_name", allow_null=True)
    table = serializers.CharField(source="table_name")
    column = serializers.CharField(source="column_name", allow_null=True)
    before = serializers.JSONField(allow_null=True, help_text="kind, data type, nullable or primary-key columns before")
    after = serializers.JSONField(allow_null=True)

    class Meta:
        model = SchemaChange
        fields = ["id", "discovery_id", "change_type", "schema", "table", "column", "before", "after",
                  "breaking", "detected_at"]
        read_only_fields = fields
