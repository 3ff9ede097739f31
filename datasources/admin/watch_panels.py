"""Panels that watch a source over time: its health history and its recent schema changes."""
from datasources.admin.panels import Panel, register
from datasources.models import SchemaChange
from datasources.services.health_summary import DEFAULT_WINDOW, WINDOWS, health_summary

RECENT_CHANGES = 20


@register
class HealthHistoryPanel(Panel):
    key, title, order = "health-history", "Health history", 15

    def context(self, request, source):
        window = request.GET.get("health_window")
        window = window if window in WINDOWS else DEFAULT_WINDOW
        return {"health": health_summary(source=source, window=window), "windows": list(WINDOWS)}


@register
class SchemaChangesPanel(Panel):
    key, title, order = "schema-changes", "Recent schema changes", 25

    def context(self, request, source):
        changes = SchemaChange.objects.filter(data_source=source).order_by("-detected_at", "-id")
        return {"changes": list(changes[:RECENT_CHANGES]), "change_count": changes.count()}
