"""Reading recorded schema changes, newest first, with the list's filters."""
from django.db.models import QuerySet

from datasources.models import SchemaChange
from rivergen.params import bool_param, moment_param


def schema_changes(source, params) -> QuerySet:
    """``breaking`` (true/false), ``since`` (ISO 8601 date or date-time, inclusive) and ``table``
    (exact name; with ``schema``, exact too). A malformed filter is a 400."""
    changes = SchemaChange.objects.filter(data_source=source)
    breaking = bool_param(params, "breaking")  # an empty value is a mistake, not "no filter"
    if breaking is not None:
        changes = changes.filter(breaking=breaking)
    since = moment_param(params, "since")
    if since is not None:
        changes = changes.filter(detected_at__gte=since)
    if params.get("table"):
        changes = changes.filter(table_name=params["table"])
    if params.get("schema"):
        changes = changes.filter(schema_name=params["schema"])
    return changes.order_by("-detected_at", "-id")
