"""Panels that watch a source over time: its health history and its recent schema changes."""
from datasources.admin.panels import Panel, register
from datasources.selectors.changes import schema_changes
from datasources.selectors.health import WINDOWS, health_summary, health_window

RECENT_CHANGES = 20


@register
class HealthHistoryPanel(Panel):
    key, title, order = "health-history", "Health history", 15

    def context(self, request, source):
        window = health_window(request.GET, "health_window", lenient=True)
        return {"health": health_summary(source=source, window=window), "windows": list(WINDOWS)}


@register
class SchemaChangesPanel(Panel):
    key, title, order = "schema-changes", "Recent schema changes", 25

    def context(self, request, source):
        changes = schema_changes(source, {})
        return {"changes": list(changes[:RECENT_CHANGES]), "change_count": changes.count()}
