"""The whole stored catalogue as NDJSON: one line per table, its columns inside, in (schema, name) order.

Tables come from one ordered query read through a cursor (server-side on PostgreSQL), their
columns a chunk of tables at a time, so memory stays constant whatever the catalogue's size, and
each chunk costs one index lookup instead of re-seeking the ordered tables. Columns come through a plain cursor and are written as JSON text directly: for 200,000
columns, ORM rows and dicts for the generic encoder would cost several times the query.
"""
from json.encoder import encode_basestring

from itertools import islice

from django.db import connection

from datasources.catalogue.read import COLUMN_KEYS, TABLE_KEYS, one_snapshot
from datasources.models import SchemaColumn, SchemaTable

CHUNK = 500  # tables per query (an IN list under SQLite's parameter limit)
BOOLEAN = {True: "true", False: "false"}  # 1 and 0 (SQLite's booleans) hash as True and False


def _text(value) -> str:
    return "null" if value is None else encode_basestring(value)


def _number(value) -> str:
    return "null" if value is None else str(int(value))


def _column(row) -> str:
    _, name, data_type, nullable, primary_key, position, default, comment, generated, hidden = row
    return (
        f'{{"name":{encode_basestring(name)},"data_type":{encode_basestring(data_type)},'
        f'"nullable":{BOOLEAN[nullable]},"primary_key":{BOOLEAN[primary_key]},"position":{int(position)},'
        f'"default":{_text(default)},"comment":{_text(comment)},"generated":{_text(generated)},'
        f'"hidden":{BOOLEAN[hidden]}}}'
    )


def _table(row, columns) -> str:
    _, schema, name, kind, partition_count, comment, column_count = row
    return (
        f'{{"schema":{_text(schema or None)},"name":{encode_basestring(name)},"kind":{encode_basestring(kind)},'
        f'"partition_count":{_number(partition_count)},"comment":{_text(comment)},'
        f'"column_count":{int(column_count)},"columns":[{",".join(columns)}]}}\n'
    )


def catalogue_lines(source):
    """Yield the export as bytes, a chunk of tables at a time, all from one snapshot of the catalogue."""
    with one_snapshot():
        ordered = SchemaTable.objects.filter(data_source=source).order_by("schema_name", "name", "id")
        rows = ordered.values_list("pk", "schema_name", *TABLE_KEYS).iterator(chunk_size=CHUNK)
        while tables := list(islice(rows, CHUNK)):
            columns = _columns_of([row[0] for row in tables])
            yield "".join(_table(row, columns.get(row[0], ())) for row in tables).encode()


def _columns_of(table_ids) -> dict[int, list[str]]:
    meta, quote = SchemaColumn._meta, connection.ops.quote_name
    fields = ", ".join(quote(meta.get_field(key).column) for key in ("table",) + COLUMN_KEYS)
    table_id = quote(meta.get_field("table").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {fields} FROM {quote(meta.db_table)} WHERE {table_id} IN ({', '.join(['%s'] * len(table_ids))}) "
            f"ORDER BY {table_id}, {quote('position')}, {quote('id')}",
            table_ids,
        )
        rows = cursor.fetchall()
    columns: dict[int, list[str]] = {}
    for row in rows:
        columns.setdefault(row[0], []).append(_column(row))
    return columns
