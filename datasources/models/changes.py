"""Differences a discovery found between the stored catalogue and the source's new one."""
from django.db import models


class SchemaChange(models.Model):
    class Type(models.TextChoices):
        TABLE_ADDED = "table_added", "Table added"
        TABLE_REMOVED = "table_removed", "Table removed"
        COLUMN_ADDED = "column_added", "Column added"
        COLUMN_REMOVED = "column_removed", "Column removed"
        COLUMN_TYPE_CHANGED = "column_type_changed", "Column type changed"
        COLUMN_NULLABILITY_CHANGED = "column_nullability_changed", "Column nullability changed"
        PRIMARY_KEY_CHANGED = "primary_key_changed", "Primary key changed"
        KIND_CHANGED = "kind_changed", "Kind changed"

    data_source = models.ForeignKey("datasources.DataSource", on_delete=models.CASCADE, related_name="schema_changes")
    discovery = models.ForeignKey("datasources.Discovery", on_delete=models.CASCADE, related_name="changes")
    change_type = models.CharField(max_length=32, choices=Type.choices)
    schema_name = models.CharField(max_length=255, blank=True, default="")
    table_name = models.CharField(max_length=1024)
    column_name = models.CharField(max_length=1024, null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    breaking = models.BooleanField(default=False)
    detected_at = models.DateTimeField()

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["data_source", "-detected_at", "-id"]),
            models.Index(fields=["data_source", "table_name"]),
        ]

    def __str__(self):
        return f"{self.change_type} {self.schema_name}.{self.table_name}"
