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
        recent = list(changes[:RECENT_CHANGES])
        for change in recent:
            change.before_text, change.after_text = change_text(change.before), change_text(change.after)
        return {"changes": recent, "change_count": changes.count()}


def change_text(value) -> str:
    """A change's before or after as a person reads it: nullability as words, key columns as a list."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "nullable" if value else "not null"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value)
