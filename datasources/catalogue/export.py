"""The whole stored catalogue as NDJSON: one line per table, its columns inside, in (schema, name) order.

On PostgreSQL the server writes the lines (``export_pg``): 2,000,000 columns would otherwise
cross the wire as 20,000,000 values for Python to turn into objects and back into text; this
way the web process only joins bytes and memory stays flat.

Elsewhere (SQLite) tables come from one ordered query read through a cursor, their columns a
chunk of tables at a time, written as JSON text directly (no ORM rows, no generic encoder). Both
write the same bytes: tests/catalogue/test_catalogue_reads.py holds them to it.
"""
from json.encoder import encode_basestring

from itertools import islice

from django.db import connection

from datasources.catalogue.export_pg import server_lines
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
    return (server_lines if connection.vendor == "postgresql" else python_lines)(source)


def python_lines(source):
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

