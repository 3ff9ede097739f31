"""The app's models, one import surface: sources, stored files, the discovered catalogue, health, webhooks and test slots.

Table names and migrations are unchanged by the split into modules (the app label is still
``datasources``; the catalogue's tables keep their ``schematable``/``schemacolumn`` names).
"""
from datasources.models.catalogue import Discovery, SchemaColumn, SchemaTable
from datasources.models.changes import SchemaChange
from datasources.models.files import StoredFile
from datasources.models.health import HealthCheck
from datasources.models.limits import ConnectionTestSlot
from datasources.models.sources import DataSource, Status, name_key
from datasources.models.webhooks import EVENT_TYPES, Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "EVENT_TYPES", "ConnectionTestSlot", "DataSource", "Discovery", "HealthCheck", "SchemaChange", "SchemaColumn", "SchemaTable",
    "Status", "StoredFile", "Webhook", "WebhookAttempt", "WebhookDelivery", "name_key",
]
