"""Writing a discovered catalogue: one transaction that writes only what the diff found changed,
and records those changes.

The first catalogue stored for a source (or one stored before digests covered every field) is a
baseline: it is written whole and records no changes.
"""
from dataclasses import dataclass, field
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from datasources.catalogue import diff as catalogue_diff
from datasources.connectors.base import DiscoveredTable, gc_paused
from datasources.models import DataSource, Discovery, SchemaChange, SchemaColumn, SchemaTable

BATCH_SIZE = 5000
ID_CHUNK = 500  # ids per ... IN (...), well under every backend's parameter limit
TABLE_FIELDS = ("kind", "column_count", "partition_count", "comment", "signature")


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
        # Locks the source row: two discoveries of one source store one after the other.
        discovered_at = DataSource.objects.select_for_update().filter(pk=source.pk).values_list(
            "schema_discovered_at", flat=True).first()
        stored = list(SchemaTable.objects.filter(data_source=source).values_list(
            "pk", "schema_name", "name", "signature", "kind"))
        baseline = discovered_at is None or any(row[3] == "" for row in stored)
        diff = catalogue_diff.diff_tables(stored, tables)
        changes = _write(source, diff)
        if baseline or diff.rewrite_all:
            changes = []
        now = timezone.now()
        if discovery is not None and changes:
            _record(source, discovery, changes, now)
        DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=now)
    return StoreResult(len(tables), sum(len(t.columns) for t in tables), baseline, changes)


def _write(source, diff) -> list:
    changes = diff.changes()
    _delete_tables([pk for pk, _, _ in diff.removed])
    rows = [_table_row(source, t, diff) for t in diff.added]
    SchemaTable.objects.bulk_create(rows, batch_size=BATCH_SIZE)  # sets ids on PostgreSQL and SQLite
    inserts = [(row.pk, values) for t, row in zip(diff.added, rows) for values in catalogue_diff.table_columns(t)]
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
    SchemaTable.objects.bulk_update(
        [_table_row(source, t, diff, pk=pk) for pk, t in diff.changed], TABLE_FIELDS, batch_size=BATCH_SIZE)
    return changes


def _table_row(source, table, diff, pk=None) -> SchemaTable:
    schema, name = catalogue_diff.key(table)
    return SchemaTable(
        pk=pk, data_source_id=source.pk, schema_name=schema, name=name, signature=diff.signatures[(schema, name)],
        kind=table.kind if table.kind in SchemaTable.Kind.values else SchemaTable.Kind.TABLE,
        column_count=len(table.columns), partition_count=table.partition_count, comment=table.comment,
    )


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
    meta = SchemaColumn._meta
    quote = connection.ops.quote_name
    columns = ("table",) + catalogue_diff.COLUMN_FIELDS
    target = f"{quote(meta.db_table)} ({', '.join(quote(meta.get_field(f).column) for f in columns)})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams every row in one statement, many times faster than INSERTs.
            with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for table_id, values in rows:
                    copy.write_row((table_id, *values))
            return
        sql = f"INSERT INTO {target} VALUES ({', '.join(['%s'] * len(columns))})"
        flat = ((table_id, *values) for table_id, values in rows)
        for batch in iter(lambda: list(islice(flat, BATCH_SIZE)), []):
            cursor.executemany(sql, batch)


def _record(source, discovery, changes, now):
    SchemaChange.objects.bulk_create([
        SchemaChange(
            data_source_id=source.pk, discovery_id=discovery.pk, change_type=c.change_type,
            schema_name=c.schema, table_name=c.table, column_name=c.column, before=c.before, after=c.after,
            breaking=c.breaking, detected_at=now,
        )
        for c in changes
    ], batch_size=BATCH_SIZE)
