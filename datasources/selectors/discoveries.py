"""Reading a source's discoveries: one by id, the history newest first, the latest."""
from django.db.models import QuerySet

from datasources.models import Discovery


def discoveries_of(source) -> QuerySet:
    """Newest first; the id breaks ties between discoveries queued in the same instant."""
    return Discovery.objects.filter(data_source=source).order_by("-created_at", "-id")


def discovery_of(source, discovery_id):
    """The discovery ``discovery_id`` of ``source``, or None (another source's is None too)."""
    return Discovery.objects.filter(pk=discovery_id, data_source=source).first()


def latest_discovery(source):
    return discoveries_of(source).first()
