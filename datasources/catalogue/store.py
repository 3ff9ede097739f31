"""Writing a discovered catalogue: one transaction, only the tables that changed, columns in batches."""
import hashlib
import json
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from datasources.connectors.base import DiscoveredTable, gc_paused
from datasources.models import DataSource, SchemaColumn, SchemaTable

BATCH_SIZE = 5000
ID_CHUNK = 500  # ids per DELETE ... IN (...), well under every backend's parameter limit
COLUMN_FIELDS = ("table", "name", "data_type", "nullable", "primary_key", "position")


def catalogue_replace(*, source: DataSource, tables: list[DiscoveredTable]) -> tuple[int, int]:
    """Make the stored catalogue equal ``tables``; readers see the old one or the new one, never half.

    Tables whose kind and columns are unchanged keep their rows, so a scheduled refresh of a
    large, stable catalogue writes almost nothing.
    """
    with gc_paused(), transaction.atomic():
        return _replace(source, tables)


def _replace(source, tables):
    wanted = [(_key(t), _signature(t), t) for t in tables]
    keys = [key for key, _, _ in wanted]
    stored = list(
        SchemaTable.objects.filter(data_source=source).values_list("pk", "schema_name", "name", "signature")
    )
    signatures = {(schema, name): signature for _, schema, name, signature in stored}
    # Duplicate names (from a connector, or stored earlier) cannot be matched one to one: rewrite all.
    diffable = len(set(keys)) == len(keys) and len(signatures) == len(stored)
    keep = {key for key, signature, _ in wanted if signatures.get(key) == signature} if diffable else set()
    _delete(source, [pk for pk, schema, name, _ in stored if (schema, name) not in keep], everything=not keep)
    fresh = [(key, signature, t) for key, signature, t in wanted if key not in keep]
    rows = [
        SchemaTable(
            data_source_id=source.pk, schema_name=key[0], name=key[1], signature=signature,
            kind=t.kind if t.kind in SchemaTable.Kind.values else SchemaTable.Kind.TABLE,
            column_count=len(t.columns),
        )
        for key, signature, t in fresh
    ]
    # bulk_create sets primary keys on PostgreSQL and SQLite, which the columns need.
    SchemaTable.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    _insert_columns([t for _, _, t in fresh], rows)
    DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=timezone.now())
    return len(wanted), sum(len(t.columns) for t in tables)


def _key(table: DiscoveredTable) -> tuple[str, str]:
    return (table.schema or "")[:255], table.name[:1024]


def _signature(table: DiscoveredTable) -> str:
    columns = [
        [c.name, c.data_type or "", bool(c.nullable), bool(c.primary_key), c.position or i]
        for i, c in enumerate(table.columns, start=1)
    ]
    return hashlib.sha256(json.dumps([table.kind, columns]).encode()).hexdigest()


def _delete(source, table_ids, *, everything: bool):
    if everything:
        SchemaColumn.objects.filter(table__data_source=source).delete()
        SchemaTable.objects.filter(data_source=source).delete()
        return
    for start in range(0, len(table_ids), ID_CHUNK):
        chunk = table_ids[start:start + ID_CHUNK]
        SchemaColumn.objects.filter(table_id__in=chunk).delete()
        SchemaTable.objects.filter(pk__in=chunk).delete()


def _insert_columns(tables, rows):
    """Raw rows instead of bulk_create: building 40,000 model instances costs more than writing them."""
    meta = SchemaColumn._meta
    quote = connection.ops.quote_name
    target = f"{quote(meta.db_table)} ({', '.join(quote(meta.get_field(f).column) for f in COLUMN_FIELDS)})"
    values = (
        (table_id, column.name[:1024], column.data_type or "", bool(column.nullable),
         bool(column.primary_key), column.position or index)
        for table, table_id in zip(tables, [row.pk for row in rows])
        for index, column in enumerate(table.columns, start=1)
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams every row in one statement, many times faster than INSERTs.
            with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
            return
        sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(COLUMN_FIELDS))})"
        for batch in iter(lambda: list(islice(values, BATCH_SIZE)), []):
            cursor.executemany(sql, batch)
