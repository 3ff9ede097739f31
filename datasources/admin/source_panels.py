"""The built-in panels of a source's change page: connection status, last discovery, schema browser."""
from datetime import timedelta

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.utils import timezone

from datasources.admin.panels import Panel, register
from datasources.catalogue.read import one_snapshot, schema_counts, schema_page, stored_tables
from datasources.models import Discovery

SCHEMA_PAGE_SIZE = 50
SCHEMA_CHIPS = 200  # schemas listed with their table counts
ACTIVE = (Discovery.Status.QUEUED, Discovery.Status.RUNNING)
# How long after a create the panels wait for the queued first test and discovery (refreshing
# themselves); past it a worker is evidently not running, and they say so instead.
FIRST_CHECK_WAIT = timedelta(minutes=10)


def first_check(source) -> str | None:
    """"queued" while the test and discovery queued after the create have not run yet, "late" when
    they should have by now (no worker?), None when there is none to wait for."""
    queued = source.schema_auto_refresh and settings.DATASOURCES_CHECK_NEW_SOURCES
    if not queued or source.last_tested_at is not None or source.created_at is None:
        return None
    return "queued" if timezone.now() - source.created_at < FIRST_CHECK_WAIT else "late"


@register
class ConnectionPanel(Panel):
    key, title, order = "connection", "Connection status", 10

    def context(self, request, source):
        return {"first_check": first_check(source)}

    def refresh_seconds(self, request, source):
        return 3 if first_check(source) == "queued" else None


@register
class DiscoveryPanel(Panel):
    key, title, order = "discovery", "Schema discovery", 20

    def context(self, request, source):
        return {"discovery": _last_discovery(source), "first_check": first_check(source)}

    def refresh_seconds(self, request, source):
        discovery = _last_discovery(source)
        if discovery is None and first_check(source) == "queued":
            return 3  # the first discovery follows the first test
        return 2 if discovery and discovery.status in ACTIVE else None


@register
class SchemaPanel(Panel):
    key, title, order = "schema", "Schema", 30

    def context(self, request, source):
        query = request.GET.get("table_q", "").strip()[:200]
        schema_filter = request.GET.get("schema_q", "").strip()[:200]
        page = _page_number(request.GET.get("schema_page"))
        with one_snapshot():  # the chips, the count and the page from the same catalogue
            return self._context(source, query, schema_filter, page)

    def _context(self, source, query, schema_filter, page):
        # The schemas' chips and, when they are all listed, the total, which schema_page would
        # otherwise count again: stored with the catalogue, or one grouped count for a search.
        schemas = schema_counts(source, schema=schema_filter, search=query, limit=SCHEMA_CHIPS + 1)
        count = sum(s["tables"] for s in schemas) if len(schemas) <= SCHEMA_CHIPS else None
        if count is not None:  # a page past the end shows the last one
            page = min(page, max(-(-count // SCHEMA_PAGE_SIZE), 1))
        # The same reader as the API: ``search`` is a substring of table or column names, ``schema`` exact.
        try:
            data = schema_page(source, schema=schema_filter, search=query, page=page, page_size=SCHEMA_PAGE_SIZE,
                               count=count)
        except EmptyPage:  # past the end of more than SCHEMA_CHIPS schemas' tables
            count = stored_tables(source, schema=schema_filter, search=query).count()
            data = schema_page(source, schema=schema_filter, search=query, page=max(-(-count // SCHEMA_PAGE_SIZE), 1),
                               page_size=SCHEMA_PAGE_SIZE, count=count)
        pages = Paginator(range(data["count"]), SCHEMA_PAGE_SIZE) if data["count"] else None
        return {
            "schema": data,
            "schema_counts": schemas[:SCHEMA_CHIPS],
            "more_schemas": len(schemas) > SCHEMA_CHIPS,
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
