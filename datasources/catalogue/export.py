"""The whole stored catalogue as NDJSON: one line per table, its columns inside, in (schema, name) order.

Tables are read through a cursor in chunks and each chunk's columns with one query, so memory
stays constant whatever the catalogue's size.
"""
import json
from collections import defaultdict
from itertools import islice

from datasources.catalogue.read import COLUMN_KEYS, TABLE_KEYS
from datasources.models import SchemaColumn, SchemaTable

CHUNK = 500  # tables per columns query (an IN list under SQLite's parameter limit)


def catalogue_lines(source):
    """Yield the export as bytes, a chunk of lines at a time."""
    tables = (
        SchemaTable.objects.filter(data_source=source).order_by("schema_name", "name", "id")
        .values_list("pk", "schema_name", *TABLE_KEYS).iterator(chunk_size=CHUNK)
    )
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    while batch := list(islice(tables, CHUNK)):
        columns = defaultdict(list)
        rows = SchemaColumn.objects.filter(table_id__in=[row[0] for row in batch]).order_by(
            "table_id", "position", "id").values_list("table_id", *COLUMN_KEYS)
        for row in rows:
            columns[row[0]].append(dict(zip(COLUMN_KEYS, row[1:])))
        yield "".join(
            encode({"schema": row[1] or None, **dict(zip(TABLE_KEYS, row[2:])), "columns": columns[row[0]]}) + "\n"
            for row in batch
        ).encode()
