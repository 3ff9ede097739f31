from django.db import migrations, models


def fill_column_names(apps, schema_editor):
    """The names of the columns already stored, so that ?search= finds them before the next discovery."""
    SchemaTable = apps.get_model("datasources", "SchemaTable")
    SchemaColumn = apps.get_model("datasources", "SchemaColumn")
    ids = SchemaTable.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000)
    batch = []
    for pk in ids:
        batch.append(pk)
        if len(batch) == 2000:
            _fill(SchemaTable, SchemaColumn, batch)
            batch = []
    _fill(SchemaTable, SchemaColumn, batch)


def _fill(SchemaTable, SchemaColumn, ids):
    names = {}
    for table_id, name in SchemaColumn.objects.filter(table_id__in=ids).order_by(
            "table_id", "position", "id").values_list("table_id", "name"):
        names.setdefault(table_id, []).append(name)
    rows = [SchemaTable(pk=pk, column_names="\n".join(found).lower()) for pk, found in names.items()]
    SchemaTable.objects.bulk_update(rows, ["column_names"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("datasources", "0006_webhook_delivery_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="schematable",
            name="fingerprint",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="schematable",
            name="column_names",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill_column_names, migrations.RunPython.noop),
    ]
