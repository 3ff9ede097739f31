from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("datasources", "0004_health_and_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="schematable",
            name="fingerprint",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
    ]
