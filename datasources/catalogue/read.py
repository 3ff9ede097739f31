"""Reading the stored catalogue: a page of tables with their columns, grouped by schema.

``schema`` and ``table`` match exactly; ``search`` matches table or column names as a
case-insensitive substring (a table is listed with all its columns when one of them matches).
"""
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage
from django.db.models import Exists, OuterRef, Prefetch, Q

from datasources.models import SchemaColumn, SchemaTable

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
COLUMN_KEYS = ("name", "data_type", "nullable", "primary_key", "position", "default", "comment", "generated", "hidden")
TABLE_KEYS = ("name", "kind", "partition_count", "comment", "column_count")


def page_numbers(params) -> tuple[int, int]:
    """(page, page_size) from query parameters; a bad value is a 400, never a silent default."""
    page = _positive_int(params, "page", 1)
    page_size = _positive_int(params, "page_size", DEFAULT_PAGE_SIZE)
    if page_size > MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"Must be at most {MAX_PAGE_SIZE}."]})
    return page, page_size


def stored_tables(source, *, schema: str = "", table: str = "", search: str = ""):
    tables = SchemaTable.objects.filter(data_source=source)
    if schema:
        tables = tables.filter(schema_name=schema)
    if table:
        tables = tables.filter(name=table)
    if search:
        matching_column = SchemaColumn.objects.filter(table_id=OuterRef("pk"), name__icontains=search)
        tables = tables.filter(Q(name__icontains=search) | Exists(matching_column))
    return tables.order_by("schema_name", "name", "id")


def schema_page(source, *, schema: str = "", table: str = "", search: str = "", page: int = 1,
                page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    """Three queries whatever the page size: count, the page of tables, their columns.

    A page past the end raises ``EmptyPage`` (page 1 of an empty catalogue is an empty page).
    """
    tables = stored_tables(source, schema=schema, table=table, search=search)
    count = tables.count()
    total_pages = (count + page_size - 1) // page_size
    if page > max(total_pages, 1):
        raise EmptyPage("That page contains no results.")
    start = (page - 1) * page_size
    columns = SchemaColumn.objects.only("table_id", *COLUMN_KEYS).order_by("position", "id")
    rows = tables.prefetch_related(Prefetch("columns", queryset=columns))[start:start + page_size]
    return {
        "schema_discovered_at": source.schema_discovered_at,
        "count": count,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
        "schemas": _grouped(rows),
    }


def table_data(row, columns) -> dict:
    return {**{k: getattr(row, k) for k in TABLE_KEYS}, "columns": columns}


def _grouped(rows) -> list[dict]:
    schemas: dict[str, list] = {}
    for row in rows:
        columns = [{k: getattr(c, k) for k in COLUMN_KEYS} for c in row.columns.all()]
        schemas.setdefault(row.schema_name, []).append(table_data(row, columns))
    return [{"name": name or None, "tables": tables} for name, tables in schemas.items()]


def _positive_int(params, name, default) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: ["Must be a positive integer."]})
    return int(raw)
