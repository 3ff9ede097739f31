"""Reading the stored catalogue: a page of tables with their columns, grouped by schema."""
from django.db.models import Prefetch

from datasources.models import SchemaColumn, SchemaTable
from rivergen.params import page_params

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def page_numbers(params) -> tuple[int, int]:
    """(page, page_size) from query parameters; a bad value is a 400, never a silent default."""
    return page_params(params, default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE, clamp=False)


def schema_page(source, *, schema: str = "", table: str = "", page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> dict:
    """Three queries whatever the page size: count, the page of tables, their columns."""
    tables = SchemaTable.objects.filter(data_source=source)
    if schema:
        tables = tables.filter(schema_name__icontains=schema)
    if table:
        tables = tables.filter(name__icontains=table)
    count = tables.count()
    start = (page - 1) * page_size
    columns = SchemaColumn.objects.only(
        "table_id", "name", "data_type", "nullable", "primary_key", "position"
    ).order_by("position", "id")
    rows = tables.prefetch_related(Prefetch("columns", queryset=columns))[start:start + page_size]
    return {
        "schema_discovered_at": source.schema_discovered_at,
        "count": count,
        "page": page,
        "page_size": page_size,
        "total_pages": (count + page_size - 1) // page_size,
        "schemas": _grouped(rows),
    }


def _grouped(rows) -> list[dict]:
    schemas: dict[str, list] = {}
    for row in rows:
        schemas.setdefault(row.schema_name, []).append({
            "name": row.name,
            "kind": row.kind,
            "column_count": row.column_count,
            "columns": [
                {
                    "name": c.name, "data_type": c.data_type, "nullable": c.nullable,
                    "primary_key": c.primary_key, "position": c.position,
                }
                for c in row.columns.all()
            ],
        })
    return [{"name": name or None, "tables": tables} for name, tables in schemas.items()]
