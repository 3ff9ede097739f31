"""Tables indexed in the order the catalogue is read, and trigram indexes for ?search= on PostgreSQL.

The new index is built before the one it replaces is dropped.
"""
from django.db import migrations, models, transaction

TABLE = "datasources_schematable"
# The expressions Django's lookups produce: name__icontains is UPPER("name"::text) LIKE UPPER(%s),
# column_names__contains is "column_names" LIKE %s. An index on anything else would not be used.
TRIGRAM_INDEXES = {
    "schematable_name_trgm": 'UPPER("name"::text) gin_trgm_ops',
    "schematable_column_names_trgm": '"column_names" gin_trgm_ops',
}


def add_trigram_indexes(apps, schema_editor):
    """pg_trgm's GIN indexes where the extension exists (contrib); elsewhere search scans, as before."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        try:
            with transaction.atomic(using=connection.alias):  # a savepoint: a refusal leaves the migration going
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # noqa: BLE001 - not allowed to create it (not trusted, not owner): no trigram index
            return
        for name, expression in TRIGRAM_INDEXES.items():
            cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" USING gin ({expression})')


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("datasources", "0008_tls"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="schematable",
            index=models.Index(fields=["data_source", "schema_name", "name", "id"], name="schematable_read_order"),
        ),
        migrations.RemoveIndex(
            model_name="schematable",
            name="datasources_data_so_3a20e3_idx",
        ),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
