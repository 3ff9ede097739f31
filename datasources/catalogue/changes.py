"""Reading recorded schema changes, newest first, with the list's filters."""
from datetime import datetime, timezone

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from datasources.models import SchemaChange


def schema_changes(source, params):
    """``breaking`` (true/false), ``since`` (ISO 8601 date or date-time, inclusive) and ``table``
    (exact name; with ``schema``, exact too). A malformed filter is a 400."""
    changes = SchemaChange.objects.filter(data_source=source)
    if params.get("breaking") not in (None, ""):
        flag = params["breaking"].lower()
        if flag not in ("true", "false"):
            raise ValidationError({"breaking": ["Must be true or false."]})
        changes = changes.filter(breaking=flag == "true")
    if params.get("since") not in (None, ""):
        changes = changes.filter(detected_at__gte=_moment(params["since"]))
    if params.get("table"):
        changes = changes.filter(table_name=params["table"])
    if params.get("schema"):
        changes = changes.filter(schema_name=params["schema"])
    return changes.order_by("-detected_at", "-id")


def _moment(raw: str):
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)) is not None:
            moment = datetime(day.year, day.month, day.day)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({"since": ["Must be an ISO 8601 date or date-time."]})
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
