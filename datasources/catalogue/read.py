"""Reading the stored catalogue: a page of tables with their columns, grouped by schema.

``schema`` and ``table`` match exactly; ``search`` matches table or column names as a
case-insensitive substring (a table is listed with all its columns when one of them matches).
"""
from contextlib import contextmanager

from django.core.paginator import EmptyPage
from django.db import connection, transaction
from django.db.models import Prefetch, Q

from datasources.models import SchemaColumn, SchemaTable
from rivergen.params import page_params

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
COLUMN_KEYS = ("name", "data_type", "nullable", "primary_key", "position", "default", "comment", "generated", "hidden")
TABLE_KEYS = ("name", "kind", "partition_count", "comment", "column_count")


@contextmanager
def one_snapshot():
    """Every query inside reads the same committed catalogue, though a discovery may commit meanwhile.

    A read of several queries (count, page, columns; the export's chunks) would otherwise mix the
    catalogue before a discovery with the one after it. (Inside an outer transaction, that one's
    isolation applies.)
    """
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def page_numbers(params) -> tuple[int, int]:
    """(page, page_size) from query parameters; a bad value is a 400, never a silent default."""
    return page_params(params, default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE, clamp=False)


def stored_tables(source, *, schema: str = "", table: str = "", search: str = ""):
    tables = SchemaTable.objects.filter(data_source=source)
    if schema:
        tables = tables.filter(schema_name=schema)
    if table:
        tables = tables.filter(name=table)
    if search:
        tables = tables.filter(Q(name__icontains=search) | Q(column_names__contains=search.lower()))
    return tables.order_by("schema_name", "name", "id")


def schema_page(source, *, schema: str = "", table: str = "", search: str = "", page: int = 1,
                page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    """Three queries whatever the page size: count, the page of tables, their columns.

    A page past the end raises ``EmptyPage`` (page 1 of an empty catalogue is an empty page).
    """
    tables = stored_tables(source, schema=schema, table=table, search=search)
    with one_snapshot():
        count = tables.count()
        total_pages = (count + page_size - 1) // page_size
        if page > max(total_pages, 1):
            raise EmptyPage("That page contains no results.")
        start = (page - 1) * page_size
        columns = SchemaColumn.objects.only("table_id", *COLUMN_KEYS).order_by("position", "id")
        rows = list(tables.prefetch_related(Prefetch("columns", queryset=columns))[start:start + page_size])
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
