"""The discovered catalogue of a source, stored normalised, and the discovery jobs that fill it."""
from django.conf import settings
from django.db import models


class Discovery(models.Model):
    """One schema discovery run, from queued to succeeded or failed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    data_source = models.ForeignKey("datasources.DataSource", on_delete=models.CASCADE, related_name="discoveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    table_count = models.PositiveIntegerField(null=True, blank=True)
    column_count = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["data_source", "-created_at"])]

    def __str__(self):
        return f"discovery {self.pk} of {self.data_source_id} ({self.status})"


class SchemaTable(models.Model):
    class Kind(models.TextChoices):
        TABLE = "table", "Table"
        VIEW = "view", "View"

    data_source = models.ForeignKey("datasources.DataSource", on_delete=models.CASCADE, related_name="schema_tables")
    # "" for sources without schemas (files, Redis), so that filters and ordering stay simple.
    schema_name = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=1024)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TABLE)
    column_count = models.PositiveIntegerField(default=0)
    # A digest of kind and columns: a refresh rewrites only the tables whose digest changed.
    signature = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["schema_name", "name", "id"]
        indexes = [models.Index(fields=["data_source", "schema_name", "name"])]

    def __str__(self):
        return f"{self.schema_name}.{self.name}" if self.schema_name else self.name


class SchemaColumn(models.Model):
    # No database-level foreign key: the rows are a derived copy written only by catalogue_store
    # with ids it has just created, and Django's delete collector still cascades. On PostgreSQL
    # the deferred constraint check per row costs more at commit than writing the rows.
    table = models.ForeignKey(SchemaTable, on_delete=models.CASCADE, related_name="columns", db_constraint=False)
    name = models.CharField(max_length=1024)
    data_type = models.TextField(blank=True, default="")
    nullable = models.BooleanField(default=True)
    primary_key = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["table_id", "position", "id"]

    def __str__(self):
        return self.name
