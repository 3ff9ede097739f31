"""Writing a discovered catalogue: one transaction that writes only what the diff found changed,
and records those changes.

The first catalogue stored for a source (or one stored before digests covered every field) is a
baseline: it is written whole and records no changes.
"""
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from datasources.catalogue import diff as catalogue_diff
from datasources.connectors.base import DiscoveredTable, gc_paused
from datasources.models import DataSource, Discovery, SchemaChange, SchemaColumn, SchemaTable

BATCH_SIZE = 5000
ID_CHUNK = 500  # ids per ... IN (...), well under every backend's parameter limit
TABLE_FIELDS = ("kind", "column_count", "partition_count", "comment", "signature", "fingerprint", "column_names")
KINDS = frozenset(SchemaTable.Kind.values)  # Kind.values builds a new list at every call
# A table row as COPY writes it (PostgreSQL).
TABLE_COPY_FIELDS = ("id", "data_source", "schema_name", "name", "kind", "column_count", "partition_count",
                     "comment", "signature", "fingerprint", "column_names")
TABLE_COPY_TYPES = ("int8", "int8", "text", "text", "text", "int4", "int4", "text", "text", "text", "text")
COLUMN_COPY_TYPES = ("int8", "text", "text", "bool", "bool", "int4", "text", "text", "text", "bool")  # table, then COLUMN_FIELDS


def column_names(table) -> str:
    return "\n".join(c.name[:1024] for c in table.columns).lower()


def _kind(table) -> str:
    return table.kind if table.kind in KINDS else SchemaTable.Kind.TABLE.value


@dataclass
class StoreResult:
    table_count: int
    column_count: int
    baseline: bool
    changes: list[catalogue_diff.Change] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return catalogue_diff.counts(self.changes)


def catalogue_replace(*, source: DataSource, tables: list[DiscoveredTable],
                      discovery: Discovery | None = None) -> StoreResult:
    """Make the stored catalogue equal ``tables``; readers see the old one or the new one, never half.

    With a ``discovery``, the changes found are recorded against it in the same transaction.
    """
    with gc_paused(), transaction.atomic():
        discovered_at = lock_catalogue(source)
        stored = list(SchemaTable.objects.filter(data_source=source).values_list(
            "pk", "schema_name", "name", "signature", "kind"))
        baseline = discovered_at is None or any(row[3] == "" for row in stored)
        diff = catalogue_diff.diff_tables(stored, tables)
        changes = write_diff(source, diff)
        if baseline or diff.rewrite_all:
            changes = []
        now = timezone.now()
        if discovery is not None and changes:
            record_changes(source, discovery, changes, now)
        mark_stored(source, now)
    return StoreResult(len(tables), sum(len(t.columns) for t in tables), baseline, changes)


def mark_stored(source, now, *, recount: bool = True):
    """Inside the storing transaction: when the catalogue was stored, and its tables per schema
    (counted again only when tables may have come or gone: ``recount``)."""
    if not recount:
        DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=now)
        return
    counts = dict(SchemaTable.objects.filter(data_source=source).order_by().values_list("schema_name").annotate(
        Count("id")))
    DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=now, schema_table_counts=counts)


def lock_catalogue(source):
    """Lock the source row, so that two discoveries of one source store one after the other;
    its ``schema_discovered_at`` (None before the first catalogue)."""
    return DataSource.objects.select_for_update().filter(pk=source.pk).values_list(
        "schema_discovered_at", flat=True).first()


def write_diff(source, diff) -> list:
    """Write what ``diff`` found; the changes it makes (those of changed tables included)."""
    changes = diff.changes()
    _delete_tables([pk for pk, _, _ in diff.removed])
    table_ids = _insert_tables(source, diff)
    inserts = [(pk, values) for t, pk in zip(diff.added, table_ids) for values in catalogue_diff.table_columns(t)]
    updates, deletes = [], []
    stored = _stored_tables([pk for pk, _ in diff.changed])
    for pk, table in diff.changed:
        columns = catalogue_diff.diff_columns(stored[pk], table)
        changes += columns.changes
        inserts += [(pk, values) for values in columns.insert]
        updates += columns.update
        deletes += columns.delete
    _chunked_delete(SchemaColumn, deletes)
    _update_columns(updates)
    _insert_columns(inserts)
    update_tables([_table_row(source, t, diff, pk=pk) for pk, t in diff.changed])
    return changes


def update_tables(rows: list[SchemaTable]):
    """Write TABLE_FIELDS of ``rows``: on PostgreSQL one UPDATE from arrays (Django's bulk_update
    builds a CASE per field and row, a second for 1,000 tables)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        SchemaTable.objects.bulk_update(rows, TABLE_FIELDS, batch_size=BATCH_SIZE)
        return
    quote, meta = connection.ops.quote_name, SchemaTable._meta
    columns = [quote(meta.get_field(f).column) for f in TABLE_FIELDS]
    types = ("text", "int4", "int4", "text", "text", "text", "text")
    arrays = ", ".join(f"%s::{t}[]" for t in ("int8", *types))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(f'{c} = v.{c}' for c in columns)} "
            f"FROM unnest({arrays}) AS v(id, {', '.join(columns)}) WHERE t.id = v.id",
            [[row.pk for row in rows], *([getattr(row, f) for row in rows] for f in TABLE_FIELDS)],
        )


def _table_row(source, table, diff, pk=None) -> SchemaTable:
    schema, name = catalogue_diff.key(table)
    return SchemaTable(
        pk=pk, data_source_id=source.pk, schema_name=schema, name=name, signature=diff.signatures[(schema, name)],
        kind=_kind(table), fingerprint=diff.fingerprints.get((schema, name), ""), column_names=column_names(table),
        column_count=len(table.columns), partition_count=table.partition_count, comment=table.comment,
    )


def _insert_tables(source, diff) -> list[int]:
    """Insert the new tables and return their ids, in order."""
    if connection.vendor != "postgresql":
        rows = [_table_row(source, t, diff) for t in diff.added]
        SchemaTable.objects.bulk_create(rows, batch_size=BATCH_SIZE)  # sets ids on SQLite too
        return [row.pk for row in rows]
    if not diff.added:
        return []
    # Ids drawn from the table's own sequence, then one binary COPY: no model instances, no
    # 10,000-row INSERT to build.
    meta = SchemaTable._meta
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [meta.db_table, len(diff.added)])
        ids = [row[0] for row in cursor.fetchall()]
        rows = (
            (pk, source.pk, *key, _kind(t), len(t.columns), t.partition_count, t.comment, diff.signatures[key],
             diff.fingerprints.get(key, ""), column_names(t))
            for pk, t, key in zip(ids, diff.added, map(catalogue_diff.key, diff.added))
        )
        copy_rows(cursor, meta, TABLE_COPY_FIELDS, TABLE_COPY_TYPES, rows)
    return ids


def copy_rows(cursor, meta, fields, types, rows):
    """Binary COPY: the driver encodes each row in C, about twice as fast as text COPY."""
    quote = connection.ops.quote_name
    target = f"{quote(meta.db_table)} ({', '.join(quote(meta.get_field(f).column) for f in fields)})"
    with cursor.cursor.copy(f"COPY {target} FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def _stored_tables(ids) -> dict[int, catalogue_diff.StoredTable]:
    tables = {pk: catalogue_diff.StoredTable(pk, kind, []) for pk, kind in _chunked(
        ids, lambda chunk: SchemaTable.objects.filter(pk__in=chunk).values_list("pk", "kind"))}
    for row in _chunked(ids, lambda chunk: SchemaColumn.objects.filter(table_id__in=chunk).order_by(
            "table_id", "position", "id").values_list("table_id", "pk", *catalogue_diff.COLUMN_FIELDS)):
        tables[row[0]].columns.append((row[1], tuple(row[2:])))
    return tables


def _chunked(ids, query):
    for start in range(0, len(ids), ID_CHUNK):
        yield from query(ids[start:start + ID_CHUNK])


def _chunked_delete(model, ids):
    for start in range(0, len(ids), ID_CHUNK):
        model.objects.filter(pk__in=ids[start:start + ID_CHUNK]).delete()


def _delete_tables(table_ids):
    for start in range(0, len(table_ids), ID_CHUNK):
        chunk = table_ids[start:start + ID_CHUNK]
        SchemaColumn.objects.filter(table_id__in=chunk).delete()
        SchemaTable.objects.filter(pk__in=chunk).delete()


def _update_columns(updates):
    if not updates:
        return
    rows = [SchemaColumn(pk=pk, **dict(zip(catalogue_diff.COLUMN_FIELDS, values))) for pk, values in updates]
    SchemaColumn.objects.bulk_update(rows, catalogue_diff.COLUMN_FIELDS, batch_size=500)


def _insert_columns(rows):
    """Raw rows instead of bulk_create: building 200,000 model instances costs more than writing them."""
    if not rows:
        return
    fields = ("table",) + catalogue_diff.COLUMN_FIELDS
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_rows(cursor, SchemaColumn._meta, fields, COLUMN_COPY_TYPES, ((pk, *values) for pk, values in rows))
            return
        quote = connection.ops.quote_name
        meta = SchemaColumn._meta
        target = f"{quote(meta.db_table)} ({', '.join(quote(meta.get_field(f).column) for f in fields)})"
        sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(fields))})"
        flat = ((pk, *values) for pk, values in rows)
        for batch in iter(lambda: list(islice(flat, BATCH_SIZE)), []):
            cursor.executemany(sql, batch)


def record_changes(source, discovery, changes, now):
    SchemaChange.objects.bulk_create([
        SchemaChange(
            data_source_id=source.pk, discovery_id=discovery.pk, change_type=c.change_type,
            schema_name=c.schema, table_name=c.table, column_name=c.column, before=c.before, after=c.after,
            breaking=c.breaking, detected_at=now,
        )
        for c in changes
    ], batch_size=BATCH_SIZE)
