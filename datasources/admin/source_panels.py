"""The built-in panels of a source's change page: connection status, last discovery, schema browser."""
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count

from datasources.admin.panels import Panel, register
from datasources.catalogue.read import schema_page, stored_tables
from datasources.models import Discovery, SchemaTable

SCHEMA_PAGE_SIZE = 50
ACTIVE = (Discovery.Status.QUEUED, Discovery.Status.RUNNING)


@register
class ConnectionPanel(Panel):
    key, title, order = "connection", "Connection status", 10


@register
class DiscoveryPanel(Panel):
    key, title, order = "discovery", "Schema discovery", 20

    def context(self, request, source):
        return {"discovery": _last_discovery(source)}

    def refresh_seconds(self, request, source):
        discovery = _last_discovery(source)
        return 2 if discovery and discovery.status in ACTIVE else None


@register
class SchemaPanel(Panel):
    key, title, order = "schema", "Schema", 30

    def context(self, request, source):
        query = request.GET.get("table_q", "").strip()[:200]
        schema_filter = request.GET.get("schema_q", "").strip()[:200]
        page = _page_number(request.GET.get("schema_page"))
        schemas = (
            SchemaTable.objects.filter(data_source=source).values("schema_name")
            .annotate(tables=Count("id")).order_by("schema_name")
        )
        # The same reader as the API: ``search`` is a substring of table or column names, ``schema`` exact.
        try:
            data = schema_page(source, schema=schema_filter, search=query, page=page, page_size=SCHEMA_PAGE_SIZE)
        except EmptyPage:  # a page past the end shows the last one
            count = stored_tables(source, schema=schema_filter, search=query).count()
            data = schema_page(source, schema=schema_filter, search=query, page=max(-(-count // SCHEMA_PAGE_SIZE), 1),
                               page_size=SCHEMA_PAGE_SIZE)
        pages = Paginator(range(data["count"]), SCHEMA_PAGE_SIZE) if data["count"] else None
        return {
            "schema": data,
            "schema_counts": list(schemas[:200]),
            "table_q": query,
            "schema_q": schema_filter,
            "page_obj": pages.get_page(data["page"]) if pages else None,
            "page_range": list(pages.get_elided_page_range(data["page"], on_each_side=2, on_ends=1)) if pages else [],
        }


def _last_discovery(source):
    cached = getattr(source, "_last_discovery", None)
    if cached is None:
        cached = source._last_discovery = source.discoveries.order_by("-created_at", "-id").first() or False
    return cached or None


def _page_number(raw) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    return int(raw) if raw and raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else 1
