"""Reading the stored catalogue: a page of tables with their columns, grouped by schema.

``schema`` and ``table`` match exactly; ``search`` matches table or column names as a
case-insensitive substring (a table is listed with all its columns when one of them matches).
"""
from contextlib import contextmanager

from django.core.paginator import EmptyPage
from django.db import connection, transaction
from django.db.models import Count, Q

from datasources.models import DataSource, SchemaColumn, SchemaTable
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
                page_size: int = DEFAULT_PAGE_SIZE, count: int | None = None) -> dict:
    """The page of tables, then their columns, then (only when the page is full) the count.

    A page that is not full is the last one, so its count is known without counting: a search
    finding a few tables costs two queries, and the COUNT, which reads every matching row, runs
    only when there are more. ``count`` is a caller's count of the same filter, in the same
    snapshot (the admin's), to skip it. Rows are read as tuples: a page of 100 tables holds 2,000
    columns, and model instances would cost more than the queries.

    Unfiltered or by schema, the count is the one stored with the catalogue (mark_stored).

    A page past the end raises ``EmptyPage`` (page 1 of an empty catalogue is an empty page).
    """
    tables = stored_tables(source, schema=schema, table=table, search=search)
    start = (page - 1) * page_size
    with one_snapshot():
        rows = list(_page_of(tables, start, page_size).values_list("pk", "schema_name", *TABLE_KEYS))
        columns: dict[int, list] = {}
        if rows:
            for row in SchemaColumn.objects.filter(table_id__in=[r[0] for r in rows]).order_by(
                    "table_id", "position", "id").values_list("table_id", *COLUMN_KEYS):
                columns.setdefault(row[0], []).append(dict(zip(COLUMN_KEYS, row[1:])))
        if count is None and len(rows) == page_size:
            count = _stored_count(source, schema) if not (table or search) else None
            if count is None:
                count = tables.count()
    if count is None:
        if page > 1 and not rows:
            raise EmptyPage("That page contains no results.")
        count = start + len(rows)
    total_pages = (count + page_size - 1) // page_size
    if page > max(total_pages, 1):
        raise EmptyPage("That page contains no results.")
    return {
        "schema_discovered_at": source.schema_discovered_at,
        "count": count,
        "page": page,
        "page_size": page_size,
        "total_pages": total_pages,
        "schemas": _grouped(rows, columns),
    }


def schema_counts(source, *, schema: str = "", search: str = "", limit: int) -> list[dict]:
    """The first ``limit`` schemas (by name) with their tables matching ``schema`` and ``search``:
    [{"schema_name", "tables"}]. Without a search, the counts stored with the catalogue."""
    counts = None if search else _stored_counts(source)
    if counts is None:
        return list(stored_tables(source, schema=schema, search=search).order_by().values("schema_name")
                    .annotate(tables=Count("id")).order_by("schema_name")[:limit])
    return [{"schema_name": name, "tables": counts[name]} for name in sorted(counts)
            if counts[name] and (not schema or name == schema)][:limit]


def _stored_counts(source) -> dict | None:
    """The tables per schema the store wrote with the catalogue (read in the caller's snapshot)."""
    return DataSource.objects.filter(pk=source.pk).values_list("schema_table_counts", flat=True).first()


def _stored_count(source, schema: str) -> int | None:
    """The count the store wrote with the catalogue (same snapshot): no pass over its rows."""
    counts = _stored_counts(source)
    if counts is None:
        return None
    return counts.get(schema, 0) if schema else sum(counts.values())


def _page_of(tables, start: int, page_size: int):
    """The page's tables. Deep in the catalogue (PostgreSQL), the offset is skipped over the ids
    alone, an index-only scan of the readers' index, and only the page's rows are read: OFFSET
    over whole rows reads every row before the page (75,000 of them for page 1,500 of 50)."""
    if start == 0 or connection.vendor != "postgresql":
        return tables[start:start + page_size]
    return SchemaTable.objects.filter(pk__in=tables.values("pk")[start:start + page_size]).order_by(
        "schema_name", "name", "id")


def _grouped(rows, columns) -> list[dict]:
    schemas: dict[str, list] = {}
    for pk, schema_name, *values in rows:
        table = dict(zip(TABLE_KEYS, values), columns=columns.get(pk, []))
        schemas.setdefault(schema_name, []).append(table)
    return [{"name": name or None, "tables": tables} for name, tables in schemas.items()]
