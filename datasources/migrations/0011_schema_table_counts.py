"""Each source's stored tables per schema, kept with its catalogue so a page is not counted by reading every row."""
from django.db import migrations, models
from django.db.models import Count


def count_stored(apps, schema_editor):
    DataSource = apps.get_model("datasources", "DataSource")
    SchemaTable = apps.get_model("datasources", "SchemaTable")
    for pk in DataSource.objects.filter(schema_discovered_at__isnull=False).values_list("pk", flat=True).iterator():
        counts = dict(SchemaTable.objects.filter(data_source_id=pk).order_by().values_list("schema_name").annotate(
            Count("id")))
        DataSource.objects.filter(pk=pk).update(schema_table_counts=counts)


class Migration(migrations.Migration):

    dependencies = [
        ("datasources", "0010_schematable_source_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="datasource",
            name="schema_table_counts",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(count_stored, migrations.RunPython.noop),
    ]
