"""The discovered catalogue of a source, stored normalised, and the discovery jobs that fill it."""
from django.conf import settings
from django.db import models

from datasources.connectors.base import TABLE_KINDS


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
    # The run that holds a running discovery, until when: a job redelivered after its worker died
    # takes over once the claim expires, and only the holder of the claim may store the catalogue.
    claim = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # What this discovery changed in the stored catalogue (null until it succeeds; 0 for a baseline).
    changes_added = models.PositiveIntegerField(null=True, blank=True)
    changes_removed = models.PositiveIntegerField(null=True, blank=True)
    changes_changed = models.PositiveIntegerField(null=True, blank=True)
    changes_breaking = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["data_source", "-created_at"])]

    def __str__(self):
        return f"discovery {self.pk} of {self.data_source_id} ({self.status})"

    def changes_summary(self) -> dict | None:
        """``{added, removed, changed, breaking}`` once succeeded, else None."""
        if self.changes_added is None:
            return None
        return {"added": self.changes_added, "removed": self.changes_removed,
                "changed": self.changes_changed, "breaking": self.changes_breaking}

    def changes_found(self) -> bool:
        summary = self.changes_summary()
        return bool(summary and any(summary.values()))


class SchemaTable(models.Model):
    # The kinds discovery reports (connectors' TABLE_KINDS), labelled "Materialized view" etc.
    Kind = models.TextChoices("Kind", {k.upper(): (k, k.replace("_", " ").capitalize()) for k in TABLE_KINDS})

    # No index of its own: schematable_read_order below leads with it (one index less to keep up
    # while 100,000 tables are written).
    data_source = models.ForeignKey("datasources.DataSource", on_delete=models.CASCADE, related_name="schema_tables",
                                    db_index=False)
    # "" for sources without schemas (files, Redis), so that filters and ordering stay simple.
    schema_name = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=1024)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.TABLE)
    column_count = models.PositiveIntegerField(default=0)
    partition_count = models.PositiveIntegerField(null=True, blank=True)  # partitioned tables only
    comment = models.TextField(null=True, blank=True)
    # A digest of everything stored about the table and its columns: a refresh compares digests
    # and touches only the tables whose digest changed. "" marks a row stored before digests
    # covered every field: the next discovery rewrites it as a new baseline.
    signature = models.CharField(max_length=64, blank=True, default="")
    # What the source's server said about the table's catalogue rows when it was last read (see
    # datasources/connectors/sql/chunks.py): a refresh reads the columns only of tables whose
    # fingerprint differs. "" when the engine gives none, which always means "read it".
    fingerprint = models.CharField(max_length=255, blank=True, default="")
    # Its columns' names, lower-cased, one a line: what ?search= matches, in one row per table
    # instead of a probe into 2,000,000 column rows.
    column_names = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["schema_name", "name", "id"]
        # The readers' order (a page, the export) to the last key: a page is the index's first
        # rows, with no sort of the source's 100,000 tables. On PostgreSQL ?search= has trigram
        # indexes too (migration 0009: raw SQL, as they need pg_trgm). Columns keep their plain
        # table_id index: (table_id, position, id) would spare sorting 20 rows a table but cost a
        # first discovery of 2,000,000 columns seconds more.
        indexes = [models.Index(fields=["data_source", "schema_name", "name", "id"], name="schematable_read_order")]

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
    position = models.PositiveIntegerField(default=0)  # the database's ordinal position
    default = models.TextField(null=True, blank=True)  # the default expression, as the database shows it
    comment = models.TextField(null=True, blank=True)
    generated = models.TextField(null=True, blank=True)  # a generated column's expression
    hidden = models.BooleanField(default=False)  # left out of SELECT * (MariaDB INVISIBLE)

    class Meta:
        ordering = ["table_id", "position", "id"]

    def __str__(self):
        return self.name
